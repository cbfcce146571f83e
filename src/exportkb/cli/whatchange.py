"""`exportkb counterfactual` (what would have to change for a determination to flip) and
`exportkb explain-html` (a proof as a self-contained HTML page).

Thin shells over :mod:`exportkb.analysis.counterfactual` and :mod:`exportkb.explain.html`. `exportkb.cli` is imported
inside the command (it registers this module at its own bottom, so a
top-level import would be circular).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..budget import budgeted, memory_limit_option, time_limit_option
from ..errors import ExportKBError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command("counterfactual", context_settings=CONTEXT)
@click.argument("case_path", metavar="CASE")
@click.option("--goal", required=True,
              help="The determination to make true: `[not] predicate(args)`, e.g. 'exception_available(aia)' "
                   "with --item, or 'not license_required(gpus)'.")
@click.option("--item", "item", help="Item id, inserted as the goal's first argument.")
@click.option("--max-changes", type=int, default=3, show_default=True,
              help="At most this many fields may change (0 or less: no bound).")
@click.option("--levels", type=int, default=1, show_default=True,
              help="1: the optimal change sets; 2: also the next-best that are not supersets of them; ...")
@click.option("--field", "fields", multiple=True,
              help="Only change these fields (path or pattern, e.g. 'parties[*].country', 'usage_this_year.*'). Repeatable.")
@click.option("--keep", multiple=True, help="Never change these fields (path or pattern). Repeatable.")
@click.option("--allow-out-of-scope", is_flag=True,
              help="Also count changes that take the case outside the KB's scope (e.g. a date before the rule).")
@click.option("--space", "space_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Change-space YAML (default: the shipped encodings/change_space.yaml).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@time_limit_option(60.0, help="Seconds of solving per level.")
@memory_limit_option()
@click.option("--explain", "show_proof", is_flag=True,
              help="Also print the proof (exportkb.explain) of the goal on the first changed case.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write an HTML page: each change set with the proof of the goal on the changed case.")
@click.pass_context
@budgeted("counterfactual", whole_command_time=False)
def counterfactual(ctx: click.Context, case_path: str, goal: str, item: str | None, max_changes: int,
                   levels: int, fields: tuple[str, ...], keep: tuple[str, ...], allow_out_of_scope: bool,
                   space_path: Path | None, fmt: str, time_limit: float, show_proof: bool,
                   html_path: Path | None) -> None:
    """The smallest sets of changes to CASE that make GOAL hold, found by clingo (#minimize, optN).

    Each change set is re-solved with the ordinary solver ("verified"). Exit 0 when change sets
    were found (or the goal already holds), 1 when no change within the declared space flips it.

    \b
    Examples:
      exportkb counterfactual tests/cases/aia/aia-we02-parent-outside.yaml --item gpus --goal 'exception_available(aia)'
      exportkb counterfactual case.yaml --goal 'not license_required(gpus)' --keep date --levels 2 --format json
    """
    from .common import get_kb
    from ..analysis.counterfactual import (ChangeSpace, CounterfactualOptions, Counterfactuals, load_space,
                                 parse_goal)
    if levels < 1:
        raise ExportKBError(f"--levels {levels}: must be at least 1 (fix: --levels 1 for the optimal sets)")
    from .common import ready_cases
    from .explain import check_goal_ids

    kb = get_kb(ctx)
    readied = ready_cases(kb, (case_path,))
    if len(readied) != 1:
        raise ExportKBError(f"{case_path}: names {len(readied)} case files; counterfactual takes one (fix: name one file)")
    case, kb = readied[0].case, readied[0].kb  # the case's own law (reform:) and date (as_of)
    # with --item the goal's first argument is the item (inserted by parse_goal): check --item only
    check_goal_ids(readied[0], item, None if item else goal.strip().removeprefix("not ").strip())
    parsed = parse_goal(goal, kb, case, item=item)
    space = ChangeSpace(kb, load_space(space_path)) if space_path else None
    opts = CounterfactualOptions(max_changes=max_changes if max_changes > 0 else None, levels=levels,
                                 fields=list(fields) or None, keep=list(keep),
                                 allow_out_of_scope=allow_out_of_scope, time_limit=time_limit)
    result = Counterfactuals(kb, space=space).search(case, parsed, opts)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        from ..escape import lines
        click.echo(lines(render_text(result, case.source)))  # case values may hold control characters
    if (show_proof or html_path) and result.change_sets:
        from ..explain import Explainer
        explainer = Explainer(kb)
        if show_proof and fmt != "json":
            click.echo("\nproof on the changed case of change set 1:")
            click.echo(result.change_sets[0].explain(parsed, kb, explainer).render("text"), nl=False)
        if html_path:
            from ..explain.html import render_counterfactual_html
            sets = [([str(c) for c in cs.changes], cs.explain(parsed, kb, explainer),
                     {c.path: f"{_plain(c.before)} -> {_plain(c.after)}" for c in cs.changes})
                    for cs in result.change_sets]
            html_path.write_text(render_counterfactual_html(case.case, str(parsed), result.message, sets),
                                 encoding="utf-8")
            click.echo(f"wrote {html_path}", err=True)
    sys.exit(0 if result.change_sets or result.goal_holds_already else 1)


def render_text(result, source: str) -> str:
    """Plain text for a terminal: one block per change set, fields with their file:line."""
    lines = [f"case {result.case}: goal {result.goal}", result.message]
    for n, cs in enumerate(result.change_sets, 1):
        tag = "optimal" if cs.level == 1 else f"level {cs.level}"
        ok = "verified by the ordinary solver" if cs.verified else "NOT confirmed by the ordinary solver"
        lines.append(f"\n{n}. {tag}, {cs.cost} change(s), {ok}")
        for ch in cs.changes:
            where = f"{source}:{ch.line}" if ch.line else source
            lines.append(f"   - {ch}   [{where}]")
    return "\n".join(lines)


def _plain(v) -> str:
    return "(not stated)" if v is None else (v.isoformat() if hasattr(v, "isoformat") else str(v))


@click.command("explain-html", context_settings=CONTEXT)
@click.argument("case_path", metavar="CASE")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML file to write.")
@click.option("--why", metavar="ATOM", help="Only the proof of ATOM, e.g. license_required(gpus).")
@click.option("--why-not", "why_not", metavar="ATOM", help="Only the why-not proof of ATOM.")
@click.option("--item", help="Item id for friendly goals (as in `exportkb explain`).")
@click.option("--open-levels", type=click.IntRange(min=0), default=6, show_default=True,
              help="Tree levels shown unfolded when the page opens.")
@time_limit_option(help="Seconds the whole page may take (solving, proof building, rendering).")
@memory_limit_option()
@click.pass_context
@budgeted("explain-html")
def explain_html(ctx: click.Context, case_path: str, out: Path, why: str | None, why_not: str | None,
                 item: str | None, open_levels: int, deadline) -> None:
    """Write the proofs of CASE as one self-contained HTML page (no network resources).

    Default: a why-proof for every determination. Each step shows its statement, the rule id,
    its citation linked to the eCFR, and the case fields it rests on with file:line.

    \b
    Examples:
      exportkb explain-html tests/cases/aia/aia-we02-parent-outside.yaml -o we02.html
      exportkb explain-html CASE --why-not "exception_available(gpus, aia)" -o why-not-aia.html
    """
    from .common import get_kb
    from ..explain import Explainer
    from ..explain.html import render_html
    if why and why_not:
        raise ExportKBError("give one of --why, --why-not (fix: ask one question at a time)")
    from .common import ready_cases
    from .explain import check_goal_ids

    kb = get_kb(ctx)
    r = ready_cases(kb, (case_path,))[0]
    check_goal_ids(r, item, why or why_not)
    session = Explainer(r.kb, deadline=deadline).case(r.case)
    if why or why_not:
        proofs = [session.explain(why or why_not, mode="why" if why else "why_not", item=item)]
    else:
        proofs = session.determinations()
    page = render_html(proofs, open_levels=open_levels)
    deadline.check()  # nothing is written once the budget is spent
    out.write_text(page, encoding="utf-8")
    click.echo(f"wrote {out} ({len(proofs)} proof(s))")
