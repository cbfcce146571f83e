"""Every rule of kb/ is exercised by some regression case (from the recorded firings).

Prints the rule ids no case fires; a rule nobody exercises is a rule nobody checked.
"""
from __future__ import annotations

import pytest

from exportkb.errors import CaseError
from exportkb.explain import rules_fired
from exportkb.case.loader import load_case

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


#: Rules that can fire only when a reform overrides a parameter (exercised by tests/test_whatif.py,
#: which applies overrides): a plain case cannot reach them by design.
REFORM_ONLY = {
    "params.overridden": "fires only when a reform supplies param_override/4",
    "params.override_in_force": "fires only when a reform supplies param_override/4",
    "weights.ops_meet_boundary": "exactly 10^26 counts only with weights_threshold_inclusive = 1 (a reform)",
    "restrict.lpp_gap_listed": "LPP treated as listed only with lpp_barred_by_740_2_a9_ii = 0 (reform lpp-740-2-gap-closed; case tests/cases/restrictions/740-2-a9-ii-lpp-uae-gap-param.yaml)",
    # Supp. No. 5 paragraph (b) ships empty (contents UNVERIFIED): only the reform
    # supp5b-sa-ae-hypothetical lists a destination (tests/cases/allocations/alloc-uplift-*).
    "alloc.uplift_applies": "needs a Supp. 5(b) destination, which only a reform supplies",
    "alloc.uplift": "needs a Supp. 5(b) destination, which only a reform supplies",
    "alloc.uplift_capped": "needs a Supp. 5(b) destination, which only a reform supplies",
    # READING switches (docs/verification/issue-14.md 1a, 1e), flipped by reforms in
    # tests/cases/review_policy/*-unresolved.yaml and 744-23-d-hq-review-from-742-6.yaml
    "review.final_no_overlap": "fires only with review_overlap_most_restrictive = 0 (a reform)",
    "review.note_overlap_unresolved": "fires only with review_overlap_most_restrictive = 0 (a reform)",
    "review.hq_from_742_6": "fires only with hq_review_from_742_6 = 1 (a reform)",
    # The IEC destination rows are UNVERIFIED (kb/exceptions/iec.lp), so IEC is "available" only with
    # iec_document_verified = 1: the reform iec-document-verified, case
    # tests/cases/advanced_technologies/iec-4a906-uk-document-verified.yaml
    "iec.document_verified": "fires only with iec_document_verified = 1 (a reform)",
    "iec.available": "fires only with iec_document_verified = 1 (a reform)",
    "iec.obligation_document_available": "fires only with iec_document_verified = 1 (a reform)",
    # The December 2024 correction's text was not read: 4D906 software is within the limited exclusion
    # only under the reading reform (tests/cases/advanced_technologies/*read-as-inclusion.yaml).
    "at.limited_scope_4d906": "fires only with at_limited_exclusion_4d906_software = 1 (a reform)",
    # The single-type Data Center VEU of 89 FR 80080 is not offered after 2025-05-15 (dcveu_2024_usable = 0,
    # UNVERIFIED): only the reform dcveu-2024-in-enforced-regime offers it in the regime BIS enforces
    # (tests/cases/dcveu_2024/enforced-regime-reform-uae-2025-06-02.yaml).
    "dcveu2024.enforced_regime": "fires only with dcveu_2024_usable = 1 after 2025-05-15 (a reform)",
}


def test_every_rule_is_exercised_by_some_case(kb, coverage):
    fired, unreadable = coverage
    uncovered = sorted(rid for rid, cases in fired.items() if not cases and rid not in REFORM_ONLY)
    if uncovered:
        print("\nrules no case exercises:\n  " + "\n  ".join(uncovered))
    if unreadable:
        print("\ncase files that did not load (coverage computed without them):\n  " + "\n  ".join(unreadable))
    assert not uncovered, f"{len(uncovered)} rule(s) of kb/ fire in no regression case: {', '.join(uncovered)}"
