"""The September 2024 advanced-technology rule (issue 16 item 2): the parts a case file cannot show.

The legal outcomes are regression cases in tests/cases/advanced_technologies/; these tests hold the
plumbing they rest on — ECCN paragraphs reaching their entry, the new case fields reaching the solver,
and a conditional exception never counted as available.
"""
from __future__ import annotations

import datetime as dt

from exportkb.case.eccn import prefixes
from exportkb.case.loader import case_from_data

from .conftest import CASES


def test_an_eccn_paragraph_reaches_its_entry():
    assert prefixes("4A906.a.1") == ["4A906", "4A906.a", "4A906.a.1"]
    assert prefixes("3D901") == ["3D901"]
    assert prefixes("EAR99") == [] and prefixes("not an eccn") == []


def _case(**over):
    data = {"case": "t", "date": "2025-02-01", "to": "CN", "transaction": "deemed_export",
            "items": [{"id": "tech", "eccn": "3E901", "for_eccn": "3A904"}],
            "parties": [{"id": "eng", "role": "end_user", "country": "US", "individual": True,
                         "employed_since": "2024-09-07", "prohibited_person": False}]}
    data.update(over)
    return data


def test_new_fields_reach_the_solver(kb, solver):
    case = case_from_data(_case(), kb, source="t.yaml")
    assert case.parties[0].employed_since == dt.date(2024, 9, 7)
    det = solver.determine(case)
    item = det.items["tech"]
    assert item.license_required is True
    assert [r.id for r in item.requirements] == ["iec_ns_worldwide", "iec_rs_worldwide"]
    # General Order No. 6 is conditional (its terms were not read): never in exceptions_available
    assert item.exceptions_available == []
    assert [(c.exception, c.condition) for c in item.exceptions_conditional] == [("GO6", "confirm_general_order_6_terms")]
    assert det.to_json()["items"]["tech"]["exceptions_conditional"] == [
        {"exception": "GO6", "condition": "confirm_general_order_6_terms"}]


def test_grandfather_date_is_inclusive(kb, solver):
    on = solver.determine(case_from_data(_case(parties=[{"id": "eng", "role": "end_user", "country": "US",
                                                          "employed_since": "2024-09-06",
                                                          "prohibited_person": False}]), kb, source="t.yaml"))
    assert on.items["tech"].license_required is False


def test_every_folder_case_states_the_regulation():
    folder = CASES / "advanced_technologies"
    files = sorted(folder.glob("*.yaml"))
    assert len(files) >= 20
    for p in files:
        text = p.read_text(encoding="utf-8")
        assert "title:" in text and ("CFR" in text or "FR " in text or "DATES" in text), p.name
