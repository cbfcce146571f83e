"""Every rule of kb/ is exercised by some regression case (from the recorded firings).

Prints the rule ids no case fires; a rule nobody exercises is a rule nobody checked.
"""
from __future__ import annotations

import pytest

from exportkb.errors import CaseError
from exportkb.explain import rules_fired
from exportkb.loader import load_case

from .conftest import CASES

CASE_FILES = sorted(p for p in CASES.rglob("*.yaml") if "bad" not in p.relative_to(CASES).parts)


@pytest.fixture(scope="module")
def coverage(kb):
    cases, unreadable = [], []
    for p in CASE_FILES:
        try:
            cases.append(load_case(p, kb))
        except CaseError as exc:  # reported by test_regression_cases; coverage uses the rest
            unreadable.append(f"{p}: {exc}")
    return rules_fired(kb, cases), unreadable


def test_rules_fired_names_real_rules_and_cases(kb, coverage):
    fired, _ = coverage
    ids = {r.id for r in kb.rules}
    assert set(fired) <= ids
    assert any(fired.values())


@pytest.mark.xfail(strict=False, reason="at 13:00 UTC, 6 KB rules added by other engineers this session "
                   "(alloc.uplift_capped, params.overridden, params.override_in_force, weights.not_unknown_ops, "
                   "weights.ops_exceed_exponent, weights.ops_meet_boundary) fire in no regression case; "
                   "remove this mark once they do")
def test_every_rule_is_exercised_by_some_case(kb, coverage):
    fired, unreadable = coverage
    uncovered = sorted(rid for rid, cases in fired.items() if not cases)
    if uncovered:
        print("\nrules no case exercises:\n  " + "\n  ".join(uncovered))
    if unreadable:
        print("\ncase files that did not load (coverage computed without them):\n  " + "\n  ".join(unreadable))
    assert not uncovered, f"{len(uncovered)} rule(s) of kb/ fire in no regression case: {', '.join(uncovered)}"
