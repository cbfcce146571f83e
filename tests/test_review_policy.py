"""The licence review policy as an output: JSON, table, what-if rows, expectations (issue 14 item 1).

The legal outcomes themselves are pinned by the cases in tests/cases/review_policy/ and
tests/cases/h200_2026/ (each citing its paragraph); these tests check that every output carries
the policy the KB concluded, and that `not_stated` is never shown as an approval.
"""
from __future__ import annotations

from rich.console import Console

from exportkb.analysis.whatif import determination_rows
from exportkb.case.loader import load_case
from exportkb.cli.render import print_determination
from exportkb.suites.expect import compare

from .conftest import CASES

RP = CASES / "review_policy"


def _det(kb, solver, name: str):
    return solver.determine(load_case(RP / f"{name}.yaml", kb))


def test_json_gives_policy_cite_and_rows(kb, solver):
    it = _det(kb, solver, "742-6-b10-iii-a1-china").to_json()["items"]["gpus"]
    assert it["license_review_policy"] == "presumption_of_denial"
    assert it["license_review_policy_cite"] == "15 CFR 742.6(b)(10)(iii)(A)(1)"
    assert it["presumption_of_denial"] is True
    assert {(p["requirement"], p["policy"], p["final"]) for p in it["license_review_policies"]} == {
        ("worldwide_a", "presumption_of_denial", True), ("hq_d5_macau", "presumption_of_denial", True)}


def test_not_stated_is_null_with_its_cite_never_approval(kb, solver):
    det = _det(kb, solver, "742-6-b14-uk-lab")
    it = det.to_json()["items"]["weights"]
    assert it["license_review_policy"] is None
    assert it["license_review_policy_cite"] == "15 CFR 742.6(b)(14)"
    assert it["presumption_of_denial"] is False
    assert [p["policy"] for p in it["license_review_policies"]] == ["not_stated"]
    assert compare({"weights": {"license_review_policy": "not_stated"}}, det) == []
    assert compare({"weights": {"license_review_policy": "none"}}, det) != []
    assert compare({"weights": {"license_review_policy": "presumption_of_approval"}}, det) != []


def test_policy_of_denial_is_not_a_presumption(kb, solver):
    it = _det(kb, solver, "742-6-b10-iii-b2-saudi-met").items["gpus"]
    assert it.license_review_policy == "policy_of_denial" and it.presumption_of_denial is False


def test_no_policy_is_none_in_expectations(kb, solver):
    det = _det(kb, solver, "742-6-b10-iii-a2-uk-no-licence-item")
    assert det.to_json()["items"]["chips"]["license_review_policy"] is None
    assert det.to_json()["items"]["chips"]["license_review_policy_cite"] is None
    assert compare({"chips": {"license_review_policy": "none"}}, det) == []
    assert compare({"chips": {"license_review_policy": "not_stated"}}, det) != []


def test_table_prints_the_policy_with_its_citation(kb, solver):
    console = Console(record=True, width=200)
    print_determination(console, _det(kb, solver, "742-6-b10-iii-b2-saudi-met"))
    text = console.export_text()
    assert "review policy" in text
    assert "licence review policy (gpus): policy of denial (15 CFR 742.6(b)(10)(iii)(B)(2))" in text


def test_whatif_rows_carry_the_policy(kb, solver):
    rows = determination_rows(_det(kb, solver, "744-23-d3i-b-my-parent-cn"))
    assert rows[0]["license_review_policy"] == "case_by_case"
    assert rows[0]["license_review_policy_cite"] == "15 CFR 744.23(d)(3)(i)"


def test_hq_requirement_cited_per_item_and_regime(kb, solver):
    b = _det(kb, solver, "744-23-d3i-b-my-parent-cn").items["gpus"].requirements
    a_pre = _det(kb, solver, "744-23-d1-a-datacenter-my-pre").items["gpus"].requirements
    a_ifr = _det(kb, solver, "744-23-d1-a-datacenter-my-ifr").items["gpus"].requirements
    cite = lambda reqs: next(r.cite for r in reqs if r.id == "hq_d5_macau")  # noqa: E731
    assert cite(b) == "15 CFR 744.23(a)(3)(i)(A)"
    assert cite(a_pre) == "15 CFR 744.23(a)(3)(i)"
    assert cite(a_ifr) == "15 CFR 742.6(a)(6)(iii)(A)"
