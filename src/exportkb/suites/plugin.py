"""pytest plugin: a compliance team's folder of case files runs with plain ``pytest``.

Registered through the ``pytest11`` entry point, so ``pip install exportkb`` is
enough. Collected as test items (one per case, named after the case id):

* ``*.case.yaml`` / ``*.case.yml`` / ``*.case.json`` anywhere pytest looks;
* every ``.yaml`` / ``.yml`` / ``.json`` under the folders named in
  ``[tool.pytest.ini_options] exportkb_cases = [...]`` or given with
  ``--exportkb-cases DIR`` (those folders must lie inside what pytest collects,
  e.g. the current directory).

Only files with an ``expect:`` block become tests. All selected items are
solved together, once per session, on the first item that runs (so ``-k``
and node ids still select), then each item compares its own expectation. A bad
case file is a collection error carrying the loader's message (file, field,
value, fix). See docs/regression-suites.md.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ..errors import ExportKBError
from ..case.loader import CASE_SUFFIXES, load_case

_STATE = pytest.StashKey["_Session"]()


class _Session:
    """Per-session state: the KB, the runner, and the outcomes of the batch solve."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self._kb = None
        self._runner = None
        self.outcomes: dict[str, Any] | None = None
        self.dirs = [Path(p).resolve() for p in config.getini("exportkb_cases")]
        self.dirs += [Path(p).resolve() for p in config.getoption("exportkb_cases") or []]
        self.engine = config.getoption("exportkb_engine") or "clingo"

    @property
    def kb(self):
        if self._kb is None:
            from ..kb import KnowledgeBase
            self._kb = KnowledgeBase.load(self.config.getoption("exportkb_kb") or os.environ.get("EXPORTKB_KB") or None)
        return self._kb

    @property
    def runner(self):
        if self._runner is None:
            from .runner import Runner
            self._runner = Runner(self.kb, self.engine)
        return self._runner

    def wanted(self, path: Path) -> bool:
        from .runner import is_case_file_name
        if is_case_file_name(path.name):
            return True
        if path.suffix.lower() not in CASE_SUFFIXES:
            return False
        resolved = path.resolve()
        return any(d == resolved.parent or d in resolved.parents for d in self.dirs)

    def solve(self, session: pytest.Session) -> None:
        """Solve every selected case item of the session in one batch run."""
        items = [i for i in session.items if isinstance(i, CaseItem)]
        outcomes = self.runner.run([i.case for i in items])
        self.outcomes = {i.nodeid: o for i, o in zip(items, outcomes)}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("exportkb", "exportkb regression cases")
    group.addoption("--exportkb-cases", action="append", default=[], metavar="DIR",
                    help="also collect every .yaml/.yml/.json case file with `expect:` under DIR (repeatable).")
    group.addoption("--exportkb-engine", choices=("clingo", "pydatalog", "both"), default=None,
                    help="engine for case files (default clingo; 'both' also fails when the engines disagree).")
    group.addoption("--exportkb-kb", default=None, metavar="DIR",
                    help="knowledge base folder (default: the shipped kb/, or $EXPORTKB_KB).")
    parser.addini("exportkb_cases", type="paths", default=[],
                  help="folders whose .yaml/.yml/.json case files (with `expect:`) are collected as tests.")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "exportkb: a regression case file of exportkb (select with -m exportkb)")
    config.stash[_STATE] = _Session(config)


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    state = parent.config.stash.get(_STATE, None)
    if state is not None and state.wanted(file_path):
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFileError(Exception):
    """A case file the loader rejected; shown as the loader's message, without a traceback."""


class CaseFile(pytest.File):
    """One case file: one test item, named after its case id (none when it has no `expect:`)."""

    def collect(self):
        state = self.config.stash[_STATE]
        try:
            case = load_case(self.path, state.kb)
        except ExportKBError as exc:
            raise CaseFileError(str(exc)) from None
        if case.expect:
            yield CaseItem.from_parent(self, name=case.case, case=case)

    def repr_failure(self, excinfo):  # a Collector's hook takes no style (only Items' do)
        if isinstance(excinfo.value, CaseFileError):
            return f"exportkb: bad case file\n{excinfo.value}"
        return super().repr_failure(excinfo)


class CaseMismatch(Exception):
    """The determination differs from the case's `expect:` (or the engines disagree)."""


class CaseItem(pytest.Item):
    """One regression case; compares the batch-solved determination with `expect:`."""

    def __init__(self, *, case, **kwargs):
        super().__init__(**kwargs)
        self.case = case
        self.add_marker(pytest.mark.exportkb)

    def runtest(self) -> None:
        state = self.config.stash[_STATE]
        if state.outcomes is None or self.nodeid not in state.outcomes:
            state.solve(self.session)
        outcome = state.outcomes[self.nodeid]
        if outcome.status != "passed":
            raise CaseMismatch(state.runner.failure_text(outcome))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, (CaseMismatch, ExportKBError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"exportkb case {self.case.case}"


@pytest.hookimpl(trylast=True)
def pytest_report_header(config: pytest.Config) -> str | None:
    state = config.stash.get(_STATE, None)
    if state is not None and state.dirs:
        return "exportkb case folders: " + ", ".join(str(d) for d in state.dirs)
    return None
