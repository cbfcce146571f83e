"""The Entity List in determinations: screening hits handed to the loading path, stated status,
the held determination of a potential match, and proofs that cite the entry (issue 15 items 1, 2, 4).

Expected outcomes come from the regulation: 15 CFR 744.11(a) (a licence for any item subject to the
EAR when a listed entity is a 748.5(c)-(f) party), 744.16(b) (no license exceptions), 744.16(f)
(address-only entries apply to every entity using the address).
"""
from __future__ import annotations

import json

import pytest

from exportkb.case.loader import case_from_data, load_case
from exportkb.case.parties import ListHit, requirement_scope, review_policies
from exportkb.errors import CaseError
from exportkb.explain import explain
from exportkb.explain.verify import verify_proof
from exportkb.solve.laws import load_ready, ready

from .conftest import CASES

GPU_SG = {
    "case": "hits", "date": "2025-06-01", "to": "SG",
    "items": [{"id": "gpus", "eccn": "3A090.a", "quantity": 1, "tpp": 15832, "designed_for_datacenter": True}],
    "parties": [{"id": "buyer", "role": "ultimate_consignee", "country": "SG", "name": "Example Compute Pte. Ltd."}],
}


def hit(kind: str, entry: str = "USER-EL-1", matched_on: str = "name", **kw) -> ListHit:
    base = dict(party_id="buyer", entry_id=entry, source="Entity List (EL) - Bureau of Industry and Security",
                entry_name="Example Compute Pte Ltd", matched_on=matched_on, kind=kind, score=0.93,
                federal_register_notice="90 FR 12345, 3/25/25",
                license_requirement="For all items subject to the EAR. (See § 744.11 of the EAR)",
                license_policy="Presumption of denial.")
    base.update(kw)
    return ListHit(**base)


def determine(solver, kb, hits):
    return solver.determine(ready(case_from_data(GPU_SG, kb), kb, hits=hits).case)


def test_without_hits_lpp_is_available(kb, solver):
    """Control: the same shipment with no hit gets LPP (740.29(a)), so the tests below can fail."""
    det = determine(solver, kb, None)
    assert det.items["gpus"].exceptions_available == ["LPP"]
    assert [r.id for r in det.items["gpus"].requirements] == ["worldwide_a"]


def test_match_hit_lists_the_party_and_bars_every_exception(kb, solver):
    det = determine(solver, kb, [hit("match")])
    it = det.items["gpus"]
    assert it.license_required is True
    assert "el_744_11" in [r.id for r in it.requirements]
    assert it.exceptions_available == []  # 744.16(b)
    assert it.presumption_of_denial is True
    assert it.entity_list_review_policy == [{"policy": "presumption_of_denial", "entry": "USER-EL-1"}]


def test_match_proof_cites_the_entry_and_its_fr_notice_and_verifies(kb):
    case = ready(case_from_data(GPU_SG, kb), kb, hits=[hit("match")]).case
    proof = explain(case, "license_requirement(gpus, el_744_11)", kb)
    text = proof.render("text")
    assert "USER-EL-1" in text and "90 FR 12345, 3/25/25" in text and "744.11(a)" in text
    assert verify_proof(proof, kb, case) == []


def test_potential_hit_holds_the_determination(kb, solver):
    det = determine(solver, kb, [hit("potential", score=0.78)])
    it = det.items["gpus"]
    # a licence is required anyway (3A090.a worldwide), but no exception is offered while unresolved
    assert it.exceptions_available == []
    assert "resolve_potential_entity_list_match_before_export" in it.obligations
    assert "resolve_potential_entity_list_match_before_export" in det.obligations


def test_potential_hit_on_ear99_gives_null_license_required(kb, solver):
    data = dict(GPU_SG, items=[{"id": "laptops", "eccn": "EAR99", "kind": "other", "quantity": 5}])
    case = ready(case_from_data(data, kb), kb, hits=[hit("potential")]).case
    det = solver.determine(case)
    assert det.items["laptops"].license_required is None
    js = det.to_json()["items"]["laptops"]
    assert js["license_required"] is None and json.loads(json.dumps(js))["license_required"] is None
    assert js["license_undetermined"] == ["potential_entity_list_match"]


def test_same_building_other_unit_is_a_note_not_a_requirement(kb, solver):
    data = dict(GPU_SG, items=[{"id": "laptops", "eccn": "EAR99", "kind": "other", "quantity": 5}])
    case = ready(case_from_data(data, kb), kb,
                 hits=[hit("same_building_other_unit", entry="EL-SAMPLE-HK-ADDR-7", matched_on="address", score=0.2)]).case
    det = solver.determine(case)
    assert det.items["laptops"].license_required is False
    assert 'same_building_other_unit("buyer","EL-SAMPLE-HK-ADDR-7")' in det.notes


def test_address_only_hit_applies_744_16_f(kb, solver):
    data = dict(GPU_SG, items=[{"id": "laptops", "eccn": "EAR99", "kind": "other", "quantity": 5}])
    case = ready(case_from_data(data, kb), kb,
                 hits=[hit("address_only", entry="EL-SAMPLE-HK-ADDR-7", matched_on="address",
                           license_policy="Policy of denial.")]).case
    det = solver.determine(case)
    it = det.items["laptops"]
    assert it.license_required is True and [r.id for r in it.requirements] == ["el_744_11"]
    assert {"policy": "policy_of_denial", "entry": "EL-SAMPLE-HK-ADDR-7"} in it.entity_list_review_policy


def test_hit_for_an_unknown_party_is_a_case_error(kb):
    with pytest.raises(CaseError) as info:
        ready(case_from_data(GPU_SG, kb), kb, hits=[hit("match", party_id="nobody")])
    assert "screening[0].party_id" in str(info.value) and "names no party of this case" in str(info.value)


def test_empty_hits_mean_screened(kb, solver):
    data = dict(GPU_SG, parties=[dict(GPU_SG["parties"][0], entity_list={"listed": True})])
    det = solver.determine(ready(case_from_data(data, kb), kb, hits=[]).case)
    assert 'stated_listed_not_found_by_screening("buyer")' in det.notes
    assert "el_744_11" in [r.id for r in det.items["gpus"].requirements]  # the stated status still applies


def test_load_ready_adds_hits_to_a_recorded_screening(kb, solver):
    path = CASES / "enforcement" / "we-26-other-unit-same-building.yaml"
    extra = ListHit("consignee", "USER-EL-2", "Entity List (EL) - Bureau of Industry and Security", "Example",
                    "name", "match", 0.99, "90 FR 1, 1/1/25", "For all items subject to the EAR.", "Case-by-case.")
    r = load_ready(path, kb, hits=[extra])
    assert len(r.case.screening) == 2 and r.case.source == load_case(path, kb).source
    det = solver.determine(r.case)
    assert det.items["parts"].license_required is True


@pytest.mark.parametrize("text, scope", [
    ("For all items subject to the EAR. (See § 744.11 of the EAR)", "all_items"),
    ("For all items subject to the EAR except food and medicine designated EAR99", "partial"),
    ("Items subject to the EAR listed on the CCL", "partial"),
    ("", None),
])
def test_requirement_scope_is_conservative(text, scope):
    assert requirement_scope(text) == scope


def test_review_policies_split_by_item():
    assert review_policies("Case-by-case review for ECCN 1A004.c; presumption of denial for all other items") == [
        "presumption_of_denial", "case_by_case"]
    assert review_policies("Policy of denial.") == ["policy_of_denial"]


ENFORCEMENT = sorted((CASES / "enforcement").glob("*.yaml"))


@pytest.mark.parametrize("path", [p for p in ENFORCEMENT if "before-listing" not in p.name
                                  and "other-unit" not in p.name and "unrelated" not in p.name], ids=lambda p: p.stem)
def test_seed_001_fact_patterns_are_flagged_with_a_checked_proof(kb, path):
    """Item 6: each seed-001 fact pattern gets the 744.11 requirement with a proof that cites the
    regulation and the entry's Federal Register notice, and the independent checker accepts it."""
    case = load_ready(path, kb).case
    item = case.items[0].id
    proof = explain(case, f"license_requirement({item}, el_744_11)", kb)
    text = proof.render("text")
    assert "744.11(a)" in text
    assert any(fr in text for fr in ("85 FR 83416", "79 FR", "89 FR 51644", "89 FR 41886")), text[:2000]
    assert verify_proof(proof, kb, case) == []
