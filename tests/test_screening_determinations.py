"""Screening inside determinations (issue 15 item 4): `check/explain --list FILE`.

What the regulation gives: a party on the Entity List makes every item subject to the EAR need a
licence (15 CFR 744.11(a), to the extent of the entry: here "For all items subject to the EAR"), no
License Exception is available (744.16(b)), and the application is "evaluated as stated in the Entity
List entry" (744.11(a): presumption of denial). A possible match short of a confirmed one is not a
pass: the determination is held until the exporter resolves it.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from exportkb import cli

HERE = Path(__file__).parent / "screening"
CSL = HERE / "csl-sample.csv"
VARIANT = HERE / "case-sjs-variant.yaml"
POTENTIAL = HERE / "case-sjs-potential.yaml"
KB_LIST = Path(__file__).parents[1] / "kb" / "parties" / "entity_list.lp"

pytest.importorskip("rapidfuzz")


def check_json(*args: str, env: dict[str, str] | None = None) -> dict:
    res = CliRunner().invoke(cli.main, ["check", "--json", *args], env=env)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_listed_party_found_by_screening_needs_a_licence_with_no_exception():
    item = check_json(str(VARIANT), "--list", str(CSL))["items"]["wafers"]
    assert item["license_required"] is True
    assert [r["id"] for r in item["requirements"]] == ["el_744_11"]
    assert item["exceptions_available"] == []
    assert item["license_review_policy"] == "presumption_of_denial"


def test_without_a_list_the_same_spelling_is_not_found():
    # the KB's own sample is matched exactly only; "SJ Semiconductor Company" is not its spelling
    item = check_json(str(VARIANT))["items"]["wafers"]
    assert item["requirements"] == []


def test_the_list_can_come_from_the_environment():
    item = check_json(str(VARIANT), env={"EXPORTKB_LIST": str(CSL)})["items"]["wafers"]
    assert [r["id"] for r in item["requirements"]] == ["el_744_11"]


def test_a_potential_match_holds_the_determination():
    item = check_json(str(POTENTIAL), "--list", str(CSL))["items"]["wafers"]
    assert item["license_required"] is None  # unknown, never "no licence"
    assert "resolve_potential_entity_list_match_before_export" in item["obligations"]
    assert item["exceptions_available"] == []


def test_the_kbs_own_entity_list_file_is_a_list_too():
    item = check_json(str(VARIANT), "--list", str(KB_LIST))["items"]["wafers"]
    assert [r["id"] for r in item["requirements"]] == ["el_744_11"]


def test_explain_cites_the_entry_and_its_federal_register_notice():
    res = CliRunner().invoke(cli.main, ["explain", str(VARIANT), "--list", str(CSL),
                                        "--why", "license_requirement(wafers, el_744_11)"])
    assert res.exit_code == 0, res.output
    assert "15 CFR 744.11(a)" in res.output
    assert "85 FR 83416" in res.output and "SJ Semiconductor" in res.output


def test_a_missing_list_file_is_a_clear_error():
    res = CliRunner().invoke(cli.main, ["check", str(VARIANT), "--list", str(HERE / "no-such-list.csv")])
    assert res.exit_code == 2
    assert "no-such-list.csv" in res.output
