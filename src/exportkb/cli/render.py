"""Rendering determinations for people (rich tables) — no logic here.

Every value that can come from a case file (case id, file name, item ids, ECCNs,
notes, mismatches) goes through :func:`exportkb.escape.rich`: control characters are
shown as escapes (one id is one line, no terminal sequence) and rich's markup
brackets are escaped (an id such as ``[/]`` is text, not a tag).
"""
from __future__ import annotations

from typing import Sequence

from rich.console import Console
from rich.table import Table

from ..explain.notes import note_groups
from ..explain.plain import figure_words
from ..kb import KnowledgeBase
from ..solve.determination import Determination, ItemDetermination
from ..escape import rich as esc
from ..escape import text as text_esc
from ..suites.expect import Mismatch


def review_policy_text(item: ItemDetermination) -> str:
    """The item's licence review policy in words, with its citation ("-" when none applies)."""
    if item.review_policy is None:
        return "-"
    words = "not stated" if item.review_policy == "not_stated" else item.review_policy.replace("_", " ")
    cite = item.license_review_policy_cite
    return f"{words} ({cite})" if cite else words


def determination_table(det: Determination) -> Table:
    title = f"{esc(det.case)} — {det.date.isoformat()}"
    if det.source:
        title += f"  [dim]({esc(det.source)})[/dim]"
    table = Table(title=title, title_justify="left", show_lines=False)
    for col in ("item", "ECCN", "license", "requirements", "exceptions", "review policy", "obligations"):
        table.add_column(col, overflow="fold")
    for item in det.items.values():
        if item.license_required is None:
            lic = "[bold yellow]unknown[/] (resolve before export)"
        elif item.license_required:
            lic = "[bold red]required[/]" + ("" if item.license_required_enforced else " [yellow](not enforced)[/]")
        else:
            lic = "[green]not required[/]"
        reqs = "\n".join(f"{esc(r.id)} [dim]{esc(r.cite)}[/]" + ("" if r.enforced else " [yellow]*[/]")
                         for r in item.requirements)
        table.add_row(esc(item.id), esc(item.eccn or "-"), lic, reqs or "-",
                      esc(", ".join(item.exceptions_available
                                    + [f"{c.exception} (conditional: {c.condition})" for c in item.exceptions_conditional])
                          or "-"),
                      esc(review_policy_text(item)), "\n".join(esc(o) for o in item.obligations) or "-")
    return table


COLUMNS = ("item", "ECCN", "license", "requirements", "exceptions", "presumption of denial", "obligations")


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table for a pipe or a file: one line per row, columns padded with spaces, nothing wrapped.

    Why not rich's table there: rich folds each cell to the width of an 80-column terminal, so a
    piped ``exportkb check`` split ``worldwide_a`` into ``worldwide_`` / ``a`` and a reader (or ``grep``)
    lost the ids. Cells are escaped with :func:`exportkb.escape.text` (one id, one line)."""
    cells = [[text_esc(h) for h in headers]] + [[text_esc(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _license_words(item) -> str:
    if item.license_required is None:
        return "unknown"
    if item.license_required:
        return "required" + ("" if item.license_required_enforced else " (not enforced)")
    return "not required"


def determination_rows(det: Determination) -> list[list[str]]:
    """The table's rows as plain strings (lists joined with '; ')."""
    return [[item.id, item.eccn or "-", _license_words(item),
             "; ".join(f"{r.id} {r.cite}" + ("" if r.enforced else " *") for r in item.requirements) or "-",
             ", ".join(item.exceptions_available) or "-", "yes" if item.presumption_of_denial else "no",
             ", ".join(item.obligations) or "-"] for item in det.items.values()]


def _figure(k: str, v: object) -> str:
    # worded, with the unit and dates as dates (exportkb.explain.plain.figure_words); --json keeps the ids
    return esc(figure_words(k, v))


#: How the text output names the regimes of ``exception_regime`` (kb/exceptions/pre_ifr.lp).
_REGIME_TEXT = {"ifr": "IFR (legally in force, GAO B-337935)", "pre_ifr": "pre-IFR (binding until 2025-05-15; the regime BIS enforces after 2025-05-13)"}


def print_determination(console: Console, det: Determination, mismatches: list[Mismatch] | None = None,
                        kb: KnowledgeBase | None = None) -> None:
    """The text output of `exportkb check`. With ``kb``, notes are grouped by kind and worded with the
    reading and citation of the rule that derives them (exportkb.explain.notes); without, as the KB's terms."""
    if not console.is_terminal:  # piped: long lines stay whole (figures, notes), as the table does
        console.soft_wrap = True
    if not det.in_scope:
        console.print(f"[bold]{esc(det.case)}[/]: out of scope on {det.date.isoformat()} — "
                      f"{esc(', '.join(det.out_of_scope))}")
        if all(it.license_required is False for it in det.items.values()):
            return
        # rules outside the AI Diffusion rule's dates (the Entity List, 744.11) still apply: show them
    if console.is_terminal:
        console.print(determination_table(det))
    else:  # a pipe or a file: plain lines that never wrap
        title = f"{det.case} — {det.date.isoformat()}" + (f"  ({det.source})" if det.source else "")
        console.print(text_esc(title) + "\n" + plain_table(COLUMNS, determination_rows(det)),
                      markup=False, highlight=False, soft_wrap=True)
    if any(not r.enforced for it in det.items.values() for r in it.requirements):
        console.print("[yellow]*[/] legally in force, but BIS announced on 2025-05-13 it would not enforce it (GAO B-337935)")
    console.print(f"red flags: {esc(', '.join(det.red_flags) or 'none')}" +
                  (f"; case obligations: {esc(', '.join(det.obligations))}" if det.obligations else ""))
    flat = {k: v for k, v in det.figures.items() if not isinstance(v, dict)}
    if flat:
        console.print("figures: " + "; ".join(_figure(k, v) for k, v in flat.items()))
    for key, per_item in det.figures.items():
        if isinstance(per_item, dict):
            console.print(f"figures ({esc(key)}): " + "; ".join(_figure(k, v) for k, v in per_item.items()))
    for it in det.items.values():  # kb/requirements/transition.lp: in force, not yet binding
        for p in it.pending_requirements:
            console.print(f"pending requirement ({esc(it.id)}): {esc(p['id'])} binds from {esc(p['binds_from'])} "
                          f"({esc(p['cite'])}); not a requirement on the case date")
    for it in det.items.values():  # kb/exceptions/pre_ifr.lp: which regime each authorization belongs to
        if it.exception_regime:
            regimes = "; ".join(f"{name}: {', '.join(_REGIME_TEXT.get(r, r) for r in rs)}"
                                for name, rs in it.exception_regime.items())
            console.print(f"exception regime ({esc(it.id)}): {esc(regimes)}")
    for it in det.items.values():
        if it.review_policy is not None:
            console.print(f"licence review policy ({esc(it.id)}): {esc(review_policy_text(it))}")
    if kb is not None:
        for group in note_groups(kb, det.notes):
            console.print("note: " + esc(group.sentence() + (f" [{group.cite}]" if group.cite else "")))
    else:
        for note in det.notes:
            console.print(f"note: {esc(note)}")
    for g in det.guidance:  # kb/guidance/: what BIS guidance says, never a requirement of the regulation
        console.print(f"guidance (not a requirement; {esc(g.date)}): {esc(g.about)} — {esc(g.title)} ({esc(g.cite)})")
    for it in det.items.values():
        if it.coverage_note:
            console.print(f"[yellow]coverage[/]: item {esc(it.id)}: {esc(it.coverage_note)}")
        if it.classification_mismatch:
            console.print(f"[yellow]classification check[/]: item {esc(it.id)}: {esc(it.classification_mismatch)}")
    if mismatches:
        console.print("[bold red]differs from expect:[/]")
        for m in mismatches:
            console.print(f"  {esc(m)}")
    elif mismatches is not None:
        console.print("[green]matches expect[/]")
