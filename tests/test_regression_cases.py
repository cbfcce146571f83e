"""Every case under tests/cases/ (except bad/) is a regression test: its `expect:` must hold.

Cases are solved in batches (one grounding per chunk), then compared one by one,
so a failure names the case file and every differing determination.
"""
from __future__ import annotations

import pytest

from exportkb.suites.expect import compare
from exportkb.case.loader import load_case
from exportkb.analysis.whatif import determine

from .conftest import CASES, ROOT

CASE_FILES = sorted(p for p in CASES.rglob("*.yaml") if "bad" not in p.relative_to(CASES).parts)


@pytest.fixture(scope="module")
def results(kb):
    cases = [load_case(p, kb) for p in CASE_FILES]
    # whatif.determine batches cases by their `reform:` lists (most have none: one grounding per chunk)
    return {c.source: (c, d) for c, d in zip(cases, determine(cases, kb))}


def test_corpus_is_not_empty():
    assert len(CASE_FILES) >= 10


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: str(p.relative_to(CASES)))
def test_case(path, results):
    case, det = results[str(path)]
    assert case.expect, f"{path}: a regression case must state `expect:`"
    mismatches = compare(case.expect, det)
    assert not mismatches, f"{path.relative_to(ROOT)}:\n" + "\n".join(f"  {m}" for m in mismatches)
