"""The shipped examples are cases too: their `expect:` must hold (the README runs them)."""
from __future__ import annotations

from exportkb.suites.expect import compare
from exportkb.case.loader import iter_case_paths, load_case

from .conftest import ROOT


def test_examples_match_their_expectations(kb, solver):
    paths = iter_case_paths([ROOT / "examples"])
    assert len(paths) >= 3
    cases = [load_case(p, kb) for p in paths]
    failures = {c.case: [str(m) for m in compare(c.expect, d)] for c, d in zip(cases, solver.determine_many(cases))}
    assert {k: v for k, v in failures.items() if v} == {}
