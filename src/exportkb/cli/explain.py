"""`exportkb explain` and `exportkb verify`: proofs for people, and an independent check of them."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..budget import budgeted, memory_limit_option, time_limit_option
from ..escape import text as esc_text
from ..explain.goals import check_goal_ids  # noqa: F401  (moved: the server refuses the same ids)
from ..case.loader import check_regular_file
from .common import list_option

if TYPE_CHECKING:
    from ..solve.laws import ReadyCase

FORMATS = ("text", "markdown", "json", "mermaid", "dot")
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command(context_settings=CONTEXT)
@click.argument("case_file", metavar="CASE")
@click.option("--item", help="Item id, for friendly goals such as --why-not LPP.")
@click.option("--why", "why", metavar="ATOM", help="Explain why ATOM holds, e.g. license_required(gpus).")
@click.option("--why-not", "why_not", metavar="ATOM",
              help="Explain why ATOM does not hold, e.g. exception_available(gpus, lpp) or LPP with --item.")
@click.option("--all", "all_", is_flag=True, help="A why-proof for every determination of the case (the default).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--depth", type=click.IntRange(min=0), default=None,
              help="Why-not: how deep to follow failed conditions (default 4). Why: how deep to print.")
@click.option("--negations", type=click.IntRange(min=0), default=0, show_default=True,
              help="Why: explain each `not p` of the proof with p's why-not tree of this depth (0: only say p is absent).")
@list_option()
@time_limit_option(help="Seconds the whole explanation may take (solving, proof building, rendering).")
@memory_limit_option()
@click.pass_context
@budgeted("explain")
def explain(ctx: click.Context, case_file: str, item: str | None, why: str | None, why_not: str | None,
            all_: bool, fmt: str, depth: int | None, negations: int, list_path: Path | None, deadline) -> None:
    """Explain the determinations of CASE: why they hold, or why another one does not.

    \b
    Examples:
      exportkb explain tests/cases/aia/aia-we01-germany.yaml
      exportkb explain CASE --why "license_required(gpus)" --format markdown
      exportkb explain CASE --why-not LPP --item gpus
      exportkb explain CASE --why "exception_available(gpus, aia)" --format json > proof.json
    """
    from .common import get_kb, load_cases
    from ..errors import ExportKBError
    from ..explain import Explainer

    if sum(bool(x) for x in (why, why_not, all_)) > 1:
        raise ExportKBError("give one of --why, --why-not, --all (fix: ask one question at a time)")
    from .common import ready_cases

    kb = get_kb(ctx)
    r = ready_cases(kb, (case_file,), list_path)[0]
    case = r.case
    check_goal_ids(r, item, why or why_not)
    session = Explainer(r.kb, deadline=deadline).case(case)
    if why or why_not:
        goal = why or why_not
        proofs = [session.explain(goal, mode="why" if why else "why_not", item=item,
                                  depth=depth if why_not else None, negation_depth=negations)]
        print_depth = depth if why else None
    else:
        proofs = session.determinations(negation_depth=negations)
        if item:
            proofs = [p for p in proofs if _mentions_item(p.goal, item)]
        print_depth = depth
    if fmt == "json":
        data = []
        for p in proofs:
            deadline.check()
            data.append(p.to_json())
        text = json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False)
        deadline.check()
        click.echo(text)
        return
    if not proofs:
        click.echo(f"case {esc_text(case.case)}: no determinations to explain")
        return
    rendered = []
    if len(proofs) > 1 and fmt in ("text", "markdown"):  # the conclusions first, then their trees
        from ..explain.render import render_summary
        rendered.append(render_summary(proofs, fmt))
    for p in proofs:  # rendered in full before printing: a budget stop never leaves half an output
        deadline.check()
        rendered.append(p.render(fmt, print_depth))
    click.echo("\n".join(rendered), nl=False)


def _mentions_item(goal: str, item: str) -> bool:
    inner = goal[goal.find("(") + 1:goal.rfind(")")] if "(" in goal else ""
    return item in [a.strip().strip('"') for a in inner.split(",")]


#: A proof file larger than this is refused unread (the largest proof of tests/cases/ is under 1 MB).
MAX_PROOF_BYTES = 64 * 1024 * 1024




@click.command(context_settings=CONTEXT)
@click.argument("proof_file", metavar="PROOF.json", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--case", "case_file", help="The case file (default: the proof's case_source).")
@list_option()
@time_limit_option(help="Seconds the whole check may take.")
@memory_limit_option()
@click.pass_context
@budgeted("verify")
def verify(ctx: click.Context, proof_file: Path, case_file: str | None, list_path: Path | None, deadline) -> None:
    """Check a proof (from `explain --format json`) independently of the explainer.

    Recomputes the case's answer set, re-grounds every step's rule from kb/ and
    checks bodies, failed conditions, leaves and acyclicity, and that every
    citation, rule text, case-field reference, the goal, date and KB version are
    the KB's and the case file's own. Exit 0 if the proof is valid, 1 if not
    (each problem printed), 2 for unreadable input (not JSON, no proof, or a
    case_source that is not a regular case file). A proof made with `explain --list FILE` is checked
    with the same `--list FILE`: the case is screened again, and every screening step must name that
    list file and its SHA-256.
    """
    from .common import get_kb, ready_cases
    from ..errors import ExportKBError
    from ..explain.proof import Proof
    from ..explain.verify import Checker, document_problems
    from ..case.loader import MAX_FILE_BYTES

    kb = get_kb(ctx)
    fix_proof = "pass the output of `exportkb explain --format json`"
    check_regular_file(proof_file, "the proof file", MAX_PROOF_BYTES, fix_proof)
    try:
        data = json.loads(proof_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportKBError(f"{proof_file}: no such file (fix: check the path)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ExportKBError(f"{proof_file}: not JSON ({exc}) (fix: {fix_proof})") from None
    items = data if isinstance(data, list) else [data]
    if not items:
        raise ExportKBError(f"{proof_file}: no proofs in the file (an empty list) (fix: {fix_proof})")
    checkers: dict[str, Checker] = {}
    bad = 0
    for n, d in enumerate(items):
        deadline.check()
        if not isinstance(d, dict):
            raise ExportKBError(f"{proof_file}: proof #{n} is not a proof (a JSON {type(d).__name__}, not an object) "
                                f"(fix: {fix_proof})")
        try:
            proof = Proof.from_json(d)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ExportKBError(f"{proof_file}: proof #{n} is not a proof of format 1 ({exc!s}) "
                                f"(fix: {fix_proof})") from None
        source = case_file or proof.case_source
        if not source:
            raise ExportKBError(f"{proof_file}: the proof does not name its case file (fix: pass --case CASE)")
        if source not in checkers:
            check_regular_file(Path(source), "the case file" if case_file else f"the case_source of {proof_file}",
                               MAX_FILE_BYTES, "pass the case file the proof was made from with --case CASE")
            r = ready_cases(kb, (source,), list_path)[0]  # the law and date the proof was made under (reform:, as_of)
            checkers[source] = Checker(r.kb, r.case)
        problems = document_problems(d) + checkers[source].check(proof)
        if problems:
            bad += 1
            click.echo(esc_text(f"INVALID {proof.kind} {proof.goal} (case {proof.case_id}): {len(problems)} problem(s)"))
            for p in problems:
                click.echo(f"  - {esc_text(p)}")
        else:
            click.echo(esc_text(f"valid {proof.kind} {proof.goal} (case {proof.case_id}, "
                                f"{proof.graph.number_of_nodes()} steps)"))
    sys.exit(1 if bad else 0)
