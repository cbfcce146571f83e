"""What every `exportkb` subcommand module shares: click settings, the KB of this run, loading the named case files."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from ..case.loader import iter_case_paths, load_case
from ..case.model import Case
from ..errors import ExportKBError
from ..kb import KnowledgeBase
from ..solve.laws import ReadyCase, ReformCache, ready

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def get_kb(ctx: click.Context) -> KnowledgeBase:
    """The KB of this invocation (``--kb`` or the shipped one), parsed once and kept on the root context."""
    obj = ctx.find_root().obj
    if "kb" not in obj:
        obj["kb"] = KnowledgeBase.load(obj.get("kb_path"))
    return obj["kb"]


def load_cases(kb: KnowledgeBase, paths: tuple[str, ...]) -> list[Case]:
    """Load every case, collecting all errors before reporting (nothing half-done)."""
    files = iter_case_paths(paths)
    if not files:
        raise ExportKBError("no case files found in " + ", ".join(paths) + " (fix: give .yaml/.yml/.json files or a folder of them)")
    cases, errors = [], []
    for f in files:
        try:
            cases.append(load_case(f, kb))
        except ExportKBError as exc:
            errors.append(str(exc))
    if errors:
        raise ExportKBError("\n".join(errors))
    return cases


LIST_HELP = ("Screen every party against this list (the Consolidated Screening List as downloaded, CSV or JSON, "
             "or the KB's own Entity List facts); alerts become facts the determination cites. "
             "Default: $EXPORTKB_LIST; none: no screening.")


def list_option() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--list FILE`` (or ``$EXPORTKB_LIST``), shared by check and explain."""
    return click.option("--list", "list_path", envvar="EXPORTKB_LIST", metavar="FILE",
                        type=click.Path(dir_okay=False, path_type=Path), default=None, help=LIST_HELP)


def ready_cases(kb: KnowledgeBase, paths: tuple[str, ...], list_path: Path | None = None) -> list[ReadyCase]:
    """Load every case the one way every command reads a case file (:func:`exportkb.solve.laws.ready`:
    ``expect.as_of`` applied, the case's ``reform:`` resolved), collecting all errors first. With
    *list_path*, every party is screened first and its alerts are handed to the KB as hits."""
    cases = load_cases(kb, paths)
    laws = ReformCache(kb) if any(c.reform for c in cases) else None
    hits = None
    if list_path is not None:
        from ..screening.cases import hits_for_cases, screener_for  # the screening extra, only when asked for

        hits = hits_for_cases(screener_for(list_path), cases)
    out, errors = [], []
    for i, c in enumerate(cases):
        try:
            out.append(ready(c, kb, laws, hits=None if hits is None else hits[i]))
        except ExportKBError as exc:
            errors.append(str(exc))
    if errors:
        raise ExportKBError("\n".join(errors))
    return out
