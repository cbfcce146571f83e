"""Provenance of screening hits (issue 15 item 4): a proof step resting on a hit names the list file
and its version, and a name match in another country is reported (and treated) as such.

What the regulation gives: 744.11(a) attaches to a party that *is* a listed entity; BIS tells users
to confirm a name match against the entry before relying on it (shared/reference/screening.md §A1,
"What developers must tell their users"). A proof must therefore say which list (file and version)
the entry was found in, so a reader can look it up; and an identical name at a party located in a
country the entry does not name is not a confirmed listing but a potential one, which holds the
determination ("resolve before export") rather than passing or confirming it.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from exportkb import cli

pytest.importorskip("rapidfuzz")

HERE = Path(__file__).parent / "screening"
CSL = HERE / "csl-sample.csv"
VARIANT = HERE / "case-sjs-variant.yaml"
SHA = hashlib.sha256(CSL.read_bytes()).hexdigest()
GOAL = "license_requirement(wafers, el_744_11)"


def _invoke(*args: str):
    res = CliRunner().invoke(cli.main, list(args))
    return res.exit_code, res.stdout, res.stderr


def test_the_proof_names_the_list_file_and_its_sha256_not_a_case_field():
    code, out, err = _invoke("explain", str(VARIANT), "--list", str(CSL), "--why", GOAL)
    assert code == 0, err
    assert f"screening list {CSL} (SHA-256 {SHA}), entry el-sjs" in out
    assert "case field screening" not in out


def test_the_json_proof_carries_the_list_and_verify_checks_it(tmp_path):
    code, out, err = _invoke("explain", str(VARIANT), "--list", str(CSL), "--why", GOAL, "--format", "json")
    assert code == 0, err
    proof = json.loads(out)
    lists = [n["list"] for n in proof["nodes"] if "list" in n]
    assert lists and all(x == {"file": str(CSL), "version": SHA, "entry": "el-sjs"} for x in lists)
    path = tmp_path / "proof.json"
    path.write_text(out, encoding="utf-8")
    code, out, _ = _invoke("verify", str(path), "--list", str(CSL))
    assert code == 0 and out.startswith("valid"), out
    # a proof that names another version of the list is refused
    for n in proof["nodes"]:
        if "list" in n:
            n["list"]["version"] = "0" * 64
    path.write_text(json.dumps(proof), encoding="utf-8")
    code, out, _ = _invoke("verify", str(path), "--list", str(CSL))
    assert code == 1 and "comes from screening list" in out


def test_a_hit_written_by_hand_still_names_its_case_field(tmp_path):
    data = yaml.safe_load(VARIANT.read_text(encoding="utf-8"))
    data["screening"] = [{"party_id": "buyer", "entry_id": "el-sjs", "entry_name": "SJ Semiconductor Co.",
                          "matched_on": "name", "kind": "match", "federal_register_notice": "85 FR 83416",
                          "license_requirement": "For all items subject to the EAR.",
                          "license_policy": "Presumption of denial."}]
    case = tmp_path / "hand.yaml"
    case.write_text(yaml.safe_dump(data), encoding="utf-8")
    code, out, err = _invoke("explain", str(case), "--why", GOAL)
    assert code == 0, err
    assert "case field screening" in out and "screening list tests" not in out and "SHA-256" not in out


def test_a_name_match_in_another_country_is_a_potential_match_and_says_so():
    from exportkb.screening.cases import screener_for

    s = screener_for(CSL)
    home = s.screen("p", "SJ Semiconductor Co.", "", "CN").matches[0]
    abroad = s.screen("p", "SJ Semiconductor Co.", "", "US").matches[0]
    assert home.kind == "match" and home.score == 1.0
    assert abroad.entry_id == home.entry_id and abroad.kind == "potential"
    mismatch = [e for e in abroad.explanation if e["op"] == "country_mismatch"]
    assert len(mismatch) == 1 and mismatch[0]["query"] == "US" and mismatch[0]["list"] == "CN"
    assert mismatch[0]["points"] < 0
    assert abs(abroad.score - sum(float(e["points"]) for e in abroad.explanation)) < 1e-9
    assert not any(e["op"] == "country_mismatch" for e in home.explanation)
    # no country given: nothing to compare
    assert s.screen("p", "SJ Semiconductor Co.").matches[0].kind == "match"


def test_an_entry_whose_country_is_not_an_iso_code_is_not_compared():
    from exportkb.screening.lists import ListEntry
    from exportkb.screening.screen import entry_countries

    assert entry_countries(ListEntry(entry_id="x", source="EL", name="X", country="China")) == frozenset()
    assert entry_countries(ListEntry(entry_id="x", source="EL", name="X", country="cn")) == {"CN"}


def test_a_listed_name_at_a_party_in_another_country_holds_the_determination(tmp_path):
    data = yaml.safe_load(VARIANT.read_text(encoding="utf-8"))
    data["case"] = "sjs-name-abroad"
    data["to"] = "SG"
    data["parties"][0].update(country="SG", name="SJ Semiconductor Co.",
                              address={"street": "1 Raffles Place", "city": "Singapore", "country": "SG"})
    case = tmp_path / "abroad.yaml"
    case.write_text(yaml.safe_dump(data), encoding="utf-8")
    code, out, err = _invoke("check", "--json", str(case), "--list", str(CSL))
    assert code == 0, err
    item = json.loads(out)["items"]["wafers"]
    assert item["license_required"] is None  # neither "no licence" nor a confirmed 744.11 requirement
    assert "resolve_potential_entity_list_match_before_export" in item["obligations"]
    assert item["exceptions_available"] == []
