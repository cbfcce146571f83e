"""`exportkb verify-batch`: expand and check the compact proofs of `exportkb batch --proofs` rows.

Why a command of its own: a batch row carries a compact proof (format ``compact-1``, no English, no
case data), so checking it needs the input row it was made from. This command pairs each output row
with its input row by line number, expands the compact proof into the format-1 proofs of
`exportkb explain` (``exportkb.explain.expand``) and runs the independent checker on each — the same
check `exportkb verify` gives a proof file — optionally printing the expanded proofs.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import CONTEXT

if TYPE_CHECKING:
    from ..case.model import Case
    from ..solve.solver import Solver


@click.command("verify-batch", context_settings=CONTEXT)
@click.argument("results", metavar="RESULTS.jsonl", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--input", "input_path", required=True, type=click.Path(path_type=Path),
              help="The batch's input (JSONL, CSV or folder) the results were made from.")
@click.option("--line", "lines", type=int, multiple=True, help="Only the row of this input line (repeatable).")
@click.option("--show", type=click.Choice(["none", "text", "markdown"]), default="none", show_default=True,
              help="Also print the expanded proofs.")
@click.pass_context
def verify_batch(ctx: click.Context, results: Path, input_path: Path, lines: tuple[int, ...], show: str) -> None:
    """Check the compact proofs of a batch's rows against the input rows they were made from.

    \b
    Examples:
      exportkb batch log.jsonl --out results.jsonl --proofs all
      exportkb verify-batch results.jsonl --input log.jsonl
      exportkb verify-batch results.jsonl --input log.jsonl --line 17 --show text

    Each selected row's proof is expanded into the why-proofs of `exportkb explain` and
    checked by the independent checker (answer set recomputed, every step re-grounded
    from kb/); every answer of the row (license required, requirements, exceptions,
    presumption of denial, obligations, red flags, scope) must have a proof and hold in
    the recomputed answer set, every proof must be an answer of the row, and every other
    field (figures, dates, labels, expect_mismatches) must be what the KB gives for the
    input row. Exit 0 if every row is valid, 1 if some is not (problems listed), 2 for
    unreadable input, a row without proofs, or a row whose input line is missing.
    """
    from ..batch import read_rows
    from .common import get_kb
    from ..errors import ExportKBError
    from ..explain.expand import expand
    from ..explain.record import RecordingProgram
    from ..case.loader import check_regular_file
    from ..explain.verify import Checker, row_answer_problems
    from ..solve.laws import ReformCache, ready_from_data
    from ..solve.solver import Solver

    kb = get_kb(ctx)
    check_regular_file(results, "the results file", MAX_RESULTS_BYTES, "pass the --out file of `exportkb batch`")
    wanted = set(lines)
    rows = _result_rows(results, wanted)
    if not rows:
        raise ExportKBError(f"{results}: no result rows" + (f" for line(s) {', '.join(map(str, sorted(wanted)))}" if wanted else "")
                            + " (fix: pass the --out file of `exportkb batch --proofs failed|all`)")
    inputs = {}
    for row in read_rows(input_path):
        if row.line in rows:
            inputs[row.line] = row
    programs: dict[int, RecordingProgram] = {}  # one per law (a row's reform: changes the KB)
    laws = ReformCache(kb)
    solver = Solver(kb)
    bad = 0
    for line, out in sorted(rows.items()):
        compact = out.get("proofs")
        if not isinstance(compact, dict):
            raise ExportKBError(f"{results}: the row of input line {line} has no compact proof "
                                "(fix: run `exportkb batch` with --proofs all, or pick a row --proofs failed kept)")
        row = inputs.get(line)
        if row is None or row.error is not None:
            raise ExportKBError(f"{input_path}: no readable input row at line {line} "
                                "(fix: pass the input the results were made from)")
        r = ready_from_data(row.data, kb, source=row.source or f"line {line}", laws=laws)  # as the batch read it
        case, law = r.case, r.kb
        if id(law) not in programs:
            programs[id(law)] = RecordingProgram(law)
        program = programs[id(law)]
        if case.case != out.get("case"):
            raise ExportKBError(f"{input_path}:{line}: case {case.case!r}, but the result row is case {out.get('case')!r} "
                                "(fix: pass the input the results were made from)")
        try:
            proofs = expand(compact, law, case, program)
        except (ValueError, KeyError, TypeError, IndexError, RuntimeError) as exc:
            raise ExportKBError(f"{results}: row of line {line}: not a compact proof ({type(exc).__name__}: {exc}) "
                                "(fix: pass the --out file of `exportkb batch --proofs`, unedited)") from None
        checker = Checker(law, case)
        problems = [(p, checker.check(p)) for p in proofs]
        invalid = [(p, probs) for p, probs in problems if probs]
        answers = row_answer_problems(out, proofs, checker)
        answers += _recomputed_differences(out, case, laws.solver(r.reforms) if r.reforms else solver)
        if invalid or answers:
            bad += 1
            click.echo(f"INVALID line {line} case {case.case}: {len(invalid)} of {len(proofs)} proof(s), "
                       f"{len(answers)} answer(s) not backed")
            for msg in answers:
                click.echo(f"  - {msg}")
            for p, probs in invalid:
                for msg in probs:
                    click.echo(f"  - {p.goal}: {msg}")
        else:
            click.echo(f"valid line {line} case {case.case}: {len(proofs)} proof(s), "
                       f"{sum(p.graph.number_of_nodes() for p in proofs)} steps")
        if show != "none":
            click.echo("\n".join(p.render(show) for p in proofs))
    sys.exit(1 if bad else 0)


#: Row keys the determination does not make: the input line, the compact proof, the expect check.
_NOT_DETERMINED = ("line", "proofs", "expect_mismatches")


def _recomputed_differences(out: dict, case: Case, solver: Solver) -> list[str]:
    """Every field of the row against the determination recomputed from its input row (and the
    ``expect_mismatches`` recomputed from the case's ``expect:``), as the batch would write them."""
    from ..batch import result_text
    from ..suites.expect import compare
    from ..explain.verify import field_differences

    det = solver.determine(case)
    want = det.to_json()
    if case.expect:
        want["expect_mismatches"] = [str(m) for m in compare(case.expect, det)]
    want = json.loads(result_text(want))  # the row as the batch writes it (JSON types, not Python ones)
    problems = field_differences(out, want)
    for key in sorted(set(out) - set(want) - set(_NOT_DETERMINED)):
        problems.append(f"{key}: not a field of a batch row (the row says {json.dumps(out[key], default=str)[:80]})")
    if "expect_mismatches" in out and "expect_mismatches" not in want:
        problems.append("expect_mismatches: the input row has no expect: block to compare with")
    return problems


#: A results file larger than this is refused unread.
MAX_RESULTS_BYTES = 2 * 1024 * 1024 * 1024


def _result_rows(path: Path, wanted: set[int]) -> dict[int, dict]:
    """The JSON result rows of a batch output, by input line (only *wanted* lines when given)."""
    from ..errors import ExportKBError

    out: dict[int, dict] = {}
    try:
        fh = path.open(encoding="utf-8")
    except FileNotFoundError:
        raise ExportKBError(f"{path}: no such file (fix: pass the --out file of `exportkb batch`)") from None
    with fh:
        for n, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ExportKBError(f"{path}:{n}: not JSON ({exc.msg}) (fix: pass a JSONL output of `exportkb batch`)") from None
            line = row.get("line") if isinstance(row, dict) else None
            if not isinstance(line, int):
                raise ExportKBError(f"{path}:{n}: not a batch result row (no 'line') (fix: pass a JSONL output of `exportkb batch`)")
            if not wanted or line in wanted:
                out[line] = row
    return out
