"""`exportkb whatif`, `exportkb compare`, `exportkb query`: the what-if shell over exportkb.analysis.whatif.

Commands are plain click commands registered in cli.py; the shared helpers of
cli.py (get_kb, load_cases) are imported inside the functions, so importing
this module never imports cli.py (no import cycle).
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ..budget import DEFAULT_RUN_TIME_LIMIT, budgeted, memory_limit_option, time_limit_option
from ..errors import ExportKBError
from ..escape import rich as esc

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_RANGE = re.compile(r"^(-?\d+):(-?\d+)(?::(\d+))?$")
_TABLE_COLS = ("item", "eccn", "outcome", "license_review_policy", "exceptions_available", "requirements", "red_flags")


def parse_vary(spec: str) -> tuple[str, Any]:
    """``AXIS=ALL``, ``AXIS=a,b,c`` or ``AXIS=START:STOP[:STEP]`` (a range, STOP excluded)."""
    axis, sep, values = spec.partition("=")
    if not sep or not axis.strip() or not values.strip():
        raise ExportKBError(f"--vary {spec!r}: write AXIS=VALUES, e.g. --vary to=ALL, --vary end_use=development,ai_model_training, "
                            "--vary tpp=0:50001:500")
    axis, values = axis.strip(), values.strip()
    if values == "ALL":
        return axis, "ALL"
    m = _RANGE.match(values)
    if m:
        start, stop, step = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)
        if step <= 0 or stop <= start:
            raise ExportKBError(f"--vary {spec!r}: empty range (fix: START:STOP:STEP with START < STOP and STEP > 0)")
        return axis, range(start, stop, step)
    return axis, [_scalar(v.strip()) for v in values.split(",") if v.strip()]


def _scalar(v: str) -> Any:
    if re.fullmatch(r"-?\d+", v):
        return int(v)
    if v in ("true", "false"):
        return v == "true"
    return v


def _progress(console: Console, total_hint: str):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    return Progress(TextColumn(total_hint), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, transient=True, disable=not console.is_terminal)


def _print_frame(df, title: str, columns: list[str] | None = None, limit: int | None = None) -> None:
    cols = columns or list(df.columns)
    rows = [["" if v is None else str(v) for v in row] for row in df[cols].itertuples(index=False)]
    caption = None
    if limit is not None and len(rows) > limit:
        caption = f"first {limit} of {len(df)} rows; use --csv or --json for all"
        rows = rows[:limit]
    _emit(title, [str(c) for c in cols], rows, caption)


def _emit(title: str, headers: list[str], rows: list[list[str]], caption: str | None = None) -> None:
    """A table: rich's on a terminal; on a pipe or file :func:`exportkb.cli.render.plain_table` (one line a
    row, nothing folded), so ``exportkb query --list | grep`` and a saved sweep keep whole ids and values."""
    console = Console()
    if not console.is_terminal:
        from .render import plain_table
        from ..escape import text as text_esc
        click.echo(text_esc(title) + "\n" + plain_table(headers, rows) + (f"\n({caption})" if caption else ""))
        return
    table = Table(title=esc(title), caption=caption)
    for c in headers:
        table.add_column(esc(c), overflow="fold")
    for r in rows:
        table.add_row(*[esc(v) for v in r])
    console.print(table)


def _records(df) -> list[dict[str, Any]]:
    from ..analysis.queries import jsonable
    return [{k: jsonable(v) for k, v in rec.items()} for rec in df.to_dict(orient="records")]


@click.command(context_settings=CONTEXT)
@click.argument("case_file", type=click.Path(path_type=Path))
@click.option("--vary", "varies", multiple=True, required=True, metavar="AXIS=VALUES",
              help="An axis of the grid: to=ALL, end_use=development,ai_model_training, tpp=0:50001:500, "
                   "usage_this_year.lpp_tpp=0,10000000. Repeat for a grid.")
@click.option("--reform", "reforms", multiple=True, metavar="NAME", help="Apply a reform from queries/reforms/ (repeatable).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Write every row to this CSV file.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as a JSON list.")
@click.option("--fixed-parties", is_flag=True, help="When varying `to`, leave the parties where they are "
                                                    "(default: parties located at the destination move with it).")
@click.option("--chunk-size", type=int, default=None, help="Scenarios per grounding (default: exportkb.analysis.whatif.SWEEP_CHUNK).")
@time_limit_option(DEFAULT_RUN_TIME_LIMIT, help="Seconds the whole sweep may take.")
@memory_limit_option()
@click.pass_context
@budgeted("whatif", pass_deadline=False)
def whatif(ctx: click.Context, case_file: Path, varies: tuple[str, ...], reforms: tuple[str, ...],
           csv_path: Path | None, as_json: bool, fixed_parties: bool, chunk_size: int | None) -> None:
    """Determine CASE_FILE over a grid of variations (one row per scenario x item).

    \b
    Examples:
      exportkb whatif examples/uae-datacenter.yaml --vary to=ALL --vary end_use=development,ai_model_training
      exportkb whatif case.yaml --vary tpp=0:50001:500 --csv tpp.csv
      exportkb whatif case.yaml --vary to=ALL --reform add-india-to-supp5a
    """
    from .common import get_kb
    from ..solve.laws import load_ready
    from ..batch.outputs import check_output, frame_csv, write_text_atomic
    from ..analysis import whatif as w

    if csv_path:  # refused before any work: the input itself, a link, a missing directory
        check_output(csv_path, "--csv", inputs=[case_file])
    kb = get_kb(ctx)
    # read as every command reads a case (expect.as_of applied, reform: checked); the sweep applies
    # the case's reform: list itself, on top of --reform (whatif.determine)
    case = load_ready(case_file, kb).case
    axes = dict(parse_vary(v) for v in varies)
    err = Console(stderr=True)
    n = 1
    for a, vals in axes.items():
        n *= len(w.axis_values(kb, a, vals, case))
    with _progress(err, f"{n} scenarios") as bar:
        task = bar.add_task("solving", total=n)
        df = w.sweep(case, kb, axes=axes, reforms=reforms, move_parties=not fixed_parties,
                     chunk_size=chunk_size or w.SWEEP_CHUNK, progress=lambda done, total: bar.update(task, completed=done))
    if csv_path:
        write_text_atomic(csv_path, frame_csv(df), "--csv")  # cells neutralised; temp file + rename
        err.print(f"{len(df)} rows written to {esc(csv_path)}")
    if as_json:
        click.echo(json.dumps(_records(df), indent=2, ensure_ascii=False))
    elif not csv_path:
        cols = list(axes) + [c for c in _TABLE_COLS if c in df.columns]
        title = f"{case.case}: {n} scenarios" + (f" with {' + '.join(reforms)}" if reforms else "")
        _print_frame(df, title, cols, limit=500)


@click.command(context_settings=CONTEXT)
@click.argument("cases", nargs=-1, required=True)
@click.option("--reform", "reforms", multiple=True, metavar="NAME", help="Compare each case as enacted against it with this reform.")
@click.option("--as-of", "dates", multiple=True, metavar="YYYY-MM-DD",
              help="Re-date the cases: two dates compare the rules in force on each; one date with --reform fixes the date.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Write one row per change to CSV.")
@click.option("--no-rules", is_flag=True, help="Skip the fired-rule diff (faster on large corpora).")
@click.option("--proofs", type=int, default=0, show_default=True, metavar="N",
              help="For each changed case, print the proof before and after of up to N changed determinations.")
@click.option("--depth", type=int, default=2, show_default=True, help="With --proofs: how deep to print each proof.")
@time_limit_option(DEFAULT_RUN_TIME_LIMIT, help="Seconds the whole comparison may take.")
@memory_limit_option()
@click.pass_context
@budgeted("compare", pass_deadline=False)
def compare(ctx: click.Context, cases: tuple[str, ...], reforms: tuple[str, ...], dates: tuple[str, ...],
            as_json: bool, csv_path: Path | None, no_rules: bool, proofs: int, depth: int) -> None:
    """Show exactly the determinations that change, case by case — under a reform, or between two dates.

    Unchanged cases are not listed. For each changed case: the changed
    determinations, the output atoms that appear or disappear, and the KB rules
    that fire only on one side.

    \b
    Examples:
      exportkb compare tests/cases --reform no-aia
      exportkb compare examples/uae-datacenter.yaml --as-of 2025-03-01 --as-of 2025-06-01
      exportkb compare tests/cases/lpp --reform lpp-cap-doubled --proofs 1
    """
    from .common import get_kb, ready_cases
    from ..case.loader import CASE_SUFFIXES
    from ..batch.outputs import check_output, frame_csv, write_text_atomic
    from ..analysis import whatif as w

    if csv_path:
        check_output(csv_path, "--csv", inputs=[Path(c) for c in cases], input_suffixes=CASE_SUFFIXES)
    kb = get_kb(ctx)
    loaded = [r.case for r in ready_cases(kb, cases)]  # as_of applied; compare applies each case's reform:
    parsed_dates = [_date(d) for d in dates]
    result = w.compare(loaded, kb, reform=list(reforms), as_of_dates=parsed_dates, explain=not no_rules)
    if csv_path:
        write_text_atomic(csv_path, frame_csv(w.comparisons_frame(result)), "--csv")
    if as_json:
        click.echo(json.dumps([c.to_json() for c in result], indent=2, ensure_ascii=False, default=str))
        return
    console = Console()
    console.print(f"{len(result)} of {len(loaded)} case(s) change")
    for c in result:
        table = Table(title=esc(f"{c.case} ({c.source}): {c.before} → {c.after}"))
        for col in ("item", "determination", c.before, c.after):
            table.add_column(esc(col), overflow="fold")
        for ch in c.changes:
            table.add_row(esc(ch.item or "(case)"), esc(ch.field), esc(_short(ch.before)), esc(_short(ch.after)))
        console.print(table)
        if c.rules_removed or c.rules_added:
            console.print("  rules firing only before: " + esc(", ".join(c.rules_removed) or "none"))
            console.print("  rules firing only after:  " + esc(", ".join(c.rules_added) or "none"))
        if c.rules_note:
            console.print("  " + esc(c.rules_note), highlight=False)
        for a in c.atoms_removed:
            console.print(f"  [red]- {esc(a)}[/red]", highlight=False)
        for a in c.atoms_added:
            console.print(f"  [green]+ {esc(a)}[/green]", highlight=False)
        if proofs > 0:
            for cp in w.change_proofs(c, kb, limit=proofs):
                console.print(f"  [bold]{esc(cp.atom)}[/bold] — {esc(c.before)}:", highlight=False)
                console.print(cp.before.render("text", depth=depth), highlight=False, markup=False)
                console.print(f"  [bold]{esc(cp.atom)}[/bold] — {esc(c.after)}:", highlight=False)
                console.print(cp.after.render("text", depth=depth), highlight=False, markup=False)


def _short(v: Any) -> str:
    if isinstance(v, list):
        return ", ".join(x["id"] if isinstance(x, dict) and "id" in x else str(x) for x in v) or "—"
    if isinstance(v, dict):
        return ", ".join(f"{k}={x}" for k, x in v.items()) or "—"
    return "—" if v is None else str(v)


def _date(text: str):
    import datetime as dt
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ExportKBError(f"--as-of {text!r}: not a date (fix: write YYYY-MM-DD, e.g. 2025-05-15)") from None


@click.command(context_settings=CONTEXT)
@click.argument("name", required=False)
@click.option("--list", "list_", is_flag=True, help="List the named queries and reforms.")
@click.option("--param", "params", multiple=True, metavar="K=V", help="Set a query parameter (repeatable).")
@click.option("--reform", "reforms", multiple=True, metavar="NAME", help="Run the query under a reform (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@time_limit_option(DEFAULT_RUN_TIME_LIMIT, help="Seconds the query may take.")
@memory_limit_option()
@click.pass_context
@budgeted("query", pass_deadline=False)
def query(ctx: click.Context, name: str | None, list_: bool, params: tuple[str, ...], reforms: tuple[str, ...],
          fmt: str) -> None:
    """Run a named analyst query from queries/ (see `exportkb query --list`)."""
    from .common import get_kb
    from ..analysis.queries import list_queries, load_query, run_query
    from ..kb.reforms import list_reforms

    if list_:
        _emit("named queries (exportkb query NAME)", ["name", "kind", "title", "parameters (default)"],
              [[q.name, q.kind, q.title, ", ".join(f"{p.name}={p.default}" for p in q.params.values())]
               for q in list_queries()])
        rows = []
        for rf in list_reforms():
            changes = [f"{p.name}={p.value} from {p.start}" for p in rf.params]
            changes += [f"overlay {p.name}" for p in rf.overlays] + [f"neutralize {i}" for i in rf.neutralize]
            rows.append([rf.name, rf.title, "; ".join(changes)])
        _emit("reforms (--reform NAME)", ["name", "title", "changes"], rows)
        return
    if not name:
        raise ExportKBError("query: name a query (fix: `exportkb query --list` lists them)")
    given = {}
    for p in params:
        k, sep, v = p.partition("=")
        if not sep or not k.strip():
            raise ExportKBError(f"--param {p!r}: write NAME=VALUE")
        given[k.strip()] = v.strip()
    kb = get_kb(ctx)
    q = load_query(name, None)
    df = run_query(q, kb, given, reforms=reforms)
    if fmt == "csv":
        from ..batch.outputs import frame_csv

        click.echo(frame_csv(df), nl=False)
    elif fmt == "json":
        click.echo(json.dumps(_records(df), indent=2, ensure_ascii=False))
    else:
        _print_frame(df, f"{q.title} — {len(df)} row(s)")
        sys.stdout.flush()
