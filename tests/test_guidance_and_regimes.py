"""Dated BIS guidance and the two regimes as outputs: JSON, text, expectations, proofs (issue 14 items 3-4).

The legal outcomes are pinned by the cases in tests/cases/guidance_2025_05/ and
tests/cases/transition/regime-*.yaml; these tests check that the outputs keep guidance apart from
requirements (a reader must never take what BIS guidance says for what the regulation requires),
carry each document's date and citation, and label each exception with its regime.
"""
from __future__ import annotations

from rich.console import Console

from exportkb.case.loader import load_case
from exportkb.cli.render import print_determination
from exportkb.suites.expect import compare

from .conftest import CASES

G = CASES / "guidance_2025_05"
T = CASES / "transition"


def _det(kb, solver, path):
    return solver.determine(load_case(path, kb))


def test_guidance_rows_carry_document_date_and_cite_and_are_never_requirements(kb, solver):
    det = _det(kb, solver, G / "gp10-ascend-910c-my-2025-05-13.yaml")
    js = det.to_json()
    (row,) = js["guidance"]
    assert row["id"] == "g_2025_05_13_gp10" and row["kind"] == "guidance"
    assert row["date"] == "2025-05-13"
    assert "736.2(b)(10)" in row["cite"] and "Ascend" in row["title"]
    assert row["about"] == 'prc_3a090_ic_needs_bis_authorization("ascend")'
    assert row["item"] == "ascend"  # the item the finding concerns, without parsing "about"
    item = js["items"]["ascend"]
    assert item["license_required"] is None  # held: never a silent "no licence"
    assert "gp10_prc_3a090_ic_guidance" in item["license_undetermined"]
    assert all(not r["id"].startswith("g_") for r in item["requirements"])


def test_guidance_about_the_case_as_a_whole_names_no_item(kb, solver):
    det = _det(kb, solver, G / "policy-stmt-us-person-iaas-2025-06-02.yaml")
    rows = {g["about"]: g for g in det.to_json()["guidance"]}
    assert rows["us_person_support_license_may_be_required"]["item"] is None
    assert all(g["item"] in det.items for a, g in rows.items() if "(" in a)


def test_guidance_is_printed_as_guidance_with_its_date(kb, solver):
    console = Console(record=True, width=400)
    print_determination(console, _det(kb, solver, G / "policy-stmt-training-cn-mil-2025-06-02.yaml"))
    text = console.export_text()
    assert "guidance (not a requirement; 2025-05-13): catch_all_license_may_be_required(\"gpus\")" in text


def test_no_guidance_before_the_documents(kb, solver):
    det = _det(kb, solver, G / "gp10-ascend-910c-my-2025-05-12.yaml")
    assert det.to_json()["guidance"] == []
    assert compare({"guidance": []}, det) == []
    assert compare({"guidance_include": ['g_2025_05_13_gp10:prc_3a090_ic_needs_bis_authorization("ascend")']}, det) != []


def test_exception_regime_in_json_and_text(kb, solver):
    det = _det(kb, solver, T / "regime-uae-a-aca-2025-05-15.yaml")
    it = det.to_json()["items"]["gpus"]
    assert it["exception_regime"]["ACA"] == ["ifr", "pre_ifr"]
    assert it["exceptions_pre_ifr"] == ["ACA"]
    assert compare({"gpus": {"exception_regime": {"ACA": ["ifr"]}}}, det) != []  # compared exactly per name
    console = Console(record=True, width=400)
    print_determination(console, det)
    assert "exception regime (gpus): ACA: IFR (legally in force, GAO B-337935), pre-IFR" in console.export_text()


def test_window_exceptions_belong_to_the_pre_ifr_regime_only(kb, solver):
    it = _det(kb, solver, T / "regime-uae-a-aca-2025-05-14.yaml").to_json()["items"]["gpus"]
    assert it["exception_regime"] == {"ACA": ["pre_ifr"]}


def test_guidance_is_provable_and_the_proof_checks(kb):
    from exportkb.explain import explain
    from exportkb.explain.verify import verify_proof

    case = load_case(G / "gp10-ascend-910c-my-2025-05-13.yaml", kb)
    proof = explain(case, 'guidance(g_2025_05_13_gp10, prc_3a090_ic_needs_bis_authorization("ascend"))', kb)
    text = proof.render("text")
    assert "GP10" in text
    assert verify_proof(proof, kb, case) == []


def test_pending_requirements_carry_binds_from(kb, solver):
    det = _det(kb, solver, T / "transition-uae-a-2025-03-03.yaml")
    it = det.to_json()["items"]["gpus"]
    assert [(p["id"], p["binds_from"]) for p in it["pending_requirements"]] == [("worldwide_a", "2025-05-15")]
    assert "742.6(a)(6)(iii)" in it["pending_requirements"][0]["cite"]
    assert all(r["id"] != "worldwide_a" for r in it["requirements"])  # pending, not a requirement of the case
    after = _det(kb, solver, T / "transition-uae-a-2025-05-15.yaml").to_json()["items"]["gpus"]
    assert after["pending_requirements"] == []
