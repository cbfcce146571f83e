"""`exportkb test PATH...`: run regression case files, print a table, write JUnit XML.

Exit codes: 0 every case passed; 1 some case failed (a determination differs
from `expect:`, or with ``--engine both`` the engines disagree); 2 bad input
(a case file the loader rejects, a bad ``-k``, a reform that cannot be applied)
— with the loader's message naming file, field and fix.
"""
from __future__ import annotations

import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Sequence

import click
from rich.console import Console
from rich.table import Table

from ..budget import DEFAULT_RUN_TIME_LIMIT, budgeted, memory_limit_option, time_limit_option
from ..errors import ExportKBError
from ..escape import lines
from ..escape import rich as esc
from ..suites.runner import ENGINES, KeywordExpression, Outcome, Runner, case_node_name, load_suite


@click.command("test", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("paths", nargs=-1, required=True)
@click.option("--engine", type=click.Choice(ENGINES), default="clingo", show_default=True,
              help="Solve with clingo, with the pyDatalog translation, or both (then they must agree).")
@click.option("--junitxml", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a JUnit XML report for CI systems.")
@click.option("-k", "keyword", default=None, metavar="EXPR",
              help="Only cases whose 'file::case-id' matches EXPR (words, and/or/not, parentheses).")
@click.option("--ignore", multiple=True, metavar="PATH",
              help="Leave out this file or folder (repeatable), e.g. a folder of deliberately bad inputs.")
@click.option("-q", "--quiet", is_flag=True, help="Print only failures and the summary line.")
@time_limit_option(DEFAULT_RUN_TIME_LIMIT, help="Seconds the whole run may take.")
@memory_limit_option()
@click.pass_context
@budgeted("test", pass_deadline=False)
def test(ctx: click.Context, paths: tuple[str, ...], engine: str, junitxml: Path | None,
         keyword: str | None, ignore: tuple[str, ...], quiet: bool) -> None:
    """Run the regression cases in PATHS (files or folders): every case file with `expect:`.

    \b
    Examples:
      exportkb test tests/cases
      exportkb test my-cases/ --engine both --junitxml report.xml
      exportkb test my-cases/ -k "aia and not bad"
      exportkb test tests/cases --ignore tests/cases/bad

    A case file the loader rejects is reported with the loader's message (file,
    field, fix); the other cases still run, and the exit code is 2 — unless the
    file has a NAME.expected.txt sidecar (an input-error case, as in
    tests/cases/bad/): then it passes when the message contains every line of
    the sidecar.
    """
    from .common import get_kb

    kb = get_kb(ctx)
    selector = KeywordExpression(keyword) if keyword else None
    suite = load_suite(paths, kb, ignore)
    cases = [c for c in suite.cases if selector is None or selector.matches(case_node_name(c))]
    if suite.errors and not cases:
        raise ExportKBError("\n".join(suite.errors))
    if not cases:
        raise ExportKBError("no regression cases (case files with `expect:`) found in " + ", ".join(paths)
                            + (f" matching -k {keyword!r}" if keyword else "")
                            + " (fix: give .yaml/.yml/.json case files that carry an expect: block)")
    runner = Runner(kb, engine)
    start = time.perf_counter()
    outcomes = runner.run(cases)
    elapsed = time.perf_counter() - start
    console = Console()
    _print(console, runner, outcomes, engine, elapsed, quiet)
    if suite.refused:
        console.print(f"{len(suite.refused)} input-error case(s) refused as expected (NAME.expected.txt)",
                      markup=False, highlight=False)
    if junitxml:
        write_junit(junitxml, runner, outcomes, engine, elapsed, suite.errors)
    if suite.errors:
        click.echo(f"error: {len(suite.errors)} case file(s) could not be read:\n" + "\n".join(suite.errors), err=True)
        sys.exit(2)
    if any(o.status == "error" for o in outcomes):
        sys.exit(2)
    sys.exit(1 if any(o.status == "failed" for o in outcomes) else 0)


def _print(console: Console, runner: Runner, outcomes: Sequence[Outcome], engine: str, elapsed: float,
           quiet: bool) -> None:
    if not quiet:
        table = Table(title=f"exportkb regression cases — engine {engine}")
        for col in ("case", "file", "result", "detail"):
            table.add_column(col, overflow="fold")
        style = {"passed": "green", "failed": "red", "error": "magenta"}
        for o in outcomes:
            detail = o.error or o.disagreement or "; ".join(str(m) for m in o.mismatches[:2]) + (
                f" (+{len(o.mismatches) - 2} more)" if len(o.mismatches) > 2 else "")
            table.add_row(esc(o.name), esc(_short(o.source)), f"[{style[o.status]}]{o.status}[/]", esc(detail))
        console.print(table)
    for o in outcomes:
        if o.status != "passed":  # plain echo: proofs keep their own indentation, no re-wrapping
            click.echo(lines(runner.failure_text(o)) + "\n")
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("passed", "failed", "error")}
    console.print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['error']} error(s) "
                  f"in {elapsed:.2f} s ({len(outcomes) / elapsed if elapsed else 0:.1f} cases/s, engine {engine})",
                  markup=False, highlight=False)


def _short(source: str) -> str:
    try:
        return str(Path(source).resolve().relative_to(Path.cwd()))
    except ValueError:
        return source


def junit_tree(runner: Runner, outcomes: Sequence[Outcome], engine: str, elapsed: float,
               load_errors: Sequence[str] = ()) -> ET.ElementTree:
    """A JUnit XML report (the de-facto schema read by Jenkins, GitLab, GitHub Actions).

    Each case is a <testcase>; a case file the loader rejected is a <testcase> with an <error>.
    """
    failures = sum(1 for o in outcomes if o.status == "failed")
    errors = sum(1 for o in outcomes if o.status == "error") + len(load_errors)
    total = str(len(outcomes) + len(load_errors))
    root = ET.Element("testsuites", name="exportkb", tests=total, failures=str(failures),
                      errors=str(errors), time=f"{elapsed:.3f}")
    suite = ET.SubElement(root, "testsuite", name=f"exportkb[{engine}]", tests=total,
                          failures=str(failures), errors=str(errors), skipped="0", time=f"{elapsed:.3f}")
    for message in load_errors:
        source = message.split(":", 1)[0]
        tc = ET.SubElement(suite, "testcase", classname=_classname(source), name=Path(source).name,
                           file=source, time="0")
        el = ET.SubElement(tc, "error", message=message.splitlines()[0], type="BadCaseFile")
        el.text = message
    for o in outcomes:
        tc = ET.SubElement(suite, "testcase", classname=_classname(o.source), name=o.name, file=o.source,
                           time=f"{o.seconds:.4f}")
        if o.status == "failed":
            first = o.disagreement or (str(o.mismatches[0]) if o.mismatches else "failed")
            el = ET.SubElement(tc, "failure", message=first, type="ExpectationMismatch"
                               if o.mismatches else "EngineDisagreement")
            el.text = runner.failure_text(o)
        elif o.status == "error":
            el = ET.SubElement(tc, "error", message=o.error or "error", type="CaseError")
            el.text = o.error
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(path: Path, runner: Runner, outcomes: Sequence[Outcome], engine: str, elapsed: float,
                load_errors: Sequence[str] = ()) -> None:
    try:
        junit_tree(runner, outcomes, engine, elapsed, load_errors).write(path, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        raise ExportKBError(f"{path}: cannot write the JUnit report: {exc.strerror} (fix: choose a writable path)") from None


def _classname(source: str) -> str:
    """JUnit class names are dotted: tests/cases/aia/x.yaml → tests.cases.aia.x"""
    p = Path(source)
    stem = p.name.split(".")[0]
    parts = [x for x in p.parent.parts if x not in ("/", ".", "..")] + [stem]
    return ".".join(parts) or stem
