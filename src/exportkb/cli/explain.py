"""`exportkb explain` and `exportkb verify`: proofs for people, and an independent check of them."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..budget import budgeted, memory_limit_option, time_limit_option
from ..escape import text as esc_text
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
    for p in proofs:  # rendered in full before printing: a budget stop never leaves half an output
        deadline.check()
        rendered.append(p.render(fmt, print_depth))
    click.echo("\n".join(rendered), nl=False)


def check_goal_ids(r: ReadyCase, item: str | None, goal: str | None) -> None:
    """Refuse an ``--item`` that is no item of the case, and an item or party id inside a goal atom
    that the case does not have, listing the known ids.

    Why: an explanation of ``license_required(gpus)`` on a case whose item is ``h100`` would
    confidently explain the absence of a thing that does not exist. Which argument of a goal is an
    item or a party comes from the KB's own sentence templates (argument ``I`` / ``P``)."""
    import clingo

    from ..errors import ExportKBError

    case, kb = r.case, r.kb
    items, parties = [it.id for it in case.items], [p.id for p in case.parties]

    def refuse(what: str, value: str, known: list[str], where: str) -> None:
        raise ExportKBError(f"{case.source}: {where}: {value!r} is not {what} of case {case.case!r} "
                            f"(fix: use one of: {', '.join(known) or '(none)'})")

    if item is not None and item not in items:
        refuse("an item", item, items, "--item")
    if not goal or "(" not in goal:
        return
    try:
        sym = clingo.parse_term(goal.strip())
    except RuntimeError:
        return  # the explainer reports an unreadable goal with its own message
    if sym.type != clingo.SymbolType.Function:
        return
    args = list(sym.arguments)
    if args and args[0].type == clingo.SymbolType.String and args[0].string == case.case:
        args = args[1:]
    template = kb.templates.get(f"{sym.name}/{len(args) + 1}")
    if template is None:
        return
    for var, a in zip(template.args[1:], args):
        text = a.string if a.type == clingo.SymbolType.String else (
            a.name if a.type == clingo.SymbolType.Function and not a.arguments else None)
        if text is None:
            continue
        if var == "I" and text not in items:
            refuse("an item", text, items, f"goal {goal.strip()}")
        if var == "P" and text not in parties:
            refuse("a party", text, parties, f"goal {goal.strip()}")


def _mentions_item(goal: str, item: str) -> bool:
    inner = goal[goal.find("(") + 1:goal.rfind(")")] if "(" in goal else ""
    return item in [a.strip().strip('"') for a in inner.split(",")]


#: A proof file larger than this is refused unread (the largest proof of tests/cases/ is under 1 MB).
MAX_PROOF_BYTES = 64 * 1024 * 1024




@click.command(context_settings=CONTEXT)
@click.argument("proof_file", metavar="PROOF.json", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--case", "case_file", help="The case file (default: the proof's case_source).")
@time_limit_option(help="Seconds the whole check may take.")
@memory_limit_option()
@click.pass_context
@budgeted("verify")
def verify(ctx: click.Context, proof_file: Path, case_file: str | None, deadline) -> None:
    """Check a proof (from `explain --format json`) independently of the explainer.

    Recomputes the case's answer set, re-grounds every step's rule from kb/ and
    checks bodies, failed conditions, leaves and acyclicity, and that every
    citation, rule text, case-field reference, the goal, date and KB version are
    the KB's and the case file's own. Exit 0 if the proof is valid, 1 if not
    (each problem printed), 2 for unreadable input (not JSON, no proof, or a
    case_source that is not a regular case file).
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
            r = ready_cases(kb, (source,))[0]  # the law and date the proof was made under (reform:, as_of)
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
