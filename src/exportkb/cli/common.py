"""What every `exportkb` subcommand module shares: click settings, the KB of this run, loading the named case files."""
from __future__ import annotations

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


def ready_cases(kb: KnowledgeBase, paths: tuple[str, ...]) -> list[ReadyCase]:
    """Load every case the one way every command reads a case file (:func:`exportkb.solve.laws.ready`:
    ``expect.as_of`` applied, the case's ``reform:`` resolved), collecting all errors first."""
    cases = load_cases(kb, paths)
    laws = ReformCache(kb) if any(c.reform for c in cases) else None
    out, errors = [], []
    for c in cases:
        try:
            out.append(ready(c, kb, laws))
        except ExportKBError as exc:
            errors.append(str(exc))
    if errors:
        raise ExportKBError("\n".join(errors))
    return out
