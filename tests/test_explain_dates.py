"""Dates in proofs read as dates: the JSON proof keeps the KB's own text (the checker compares it word
for word), every rendering for people shows a date as a date and an open end in words."""
from __future__ import annotations

from exportkb.explain import explain
from exportkb.case.loader import load_case

from .conftest import ROOT


def test_case_date_and_milestones_render_as_dates(kb):
    case = load_case(ROOT / "examples" / "malaysia-cn-parent.yaml", kb)
    proof = explain(case, "license_requirement(gpus, hq_d5_macau)", kb=kb)
    text = proof.render("text")
    assert "the transaction takes place on 1 September 2025." in text
    assert "the rule effective date is 13 January 2025." in text  # {Name:words}: the identifier read as words
    assert "1 September 2025 is on or after 13 January 2025" in text  # the comparison, in words
    assert "20250901" not in text
    # the proof itself is unchanged: ISO dates in statements, the comparison as the solver evaluated it
    nodes = proof.to_json()["nodes"]
    assert any(n.get("statement") == "the transaction takes place on 2025-09-01." for n in nodes)
    assert any("20250901 >= 20250113" in str(n.get("value", "")) for n in nodes)
