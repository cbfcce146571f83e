"""Dates in proofs read as dates: template variables D, From and To render YYYYMMDD integers as ISO dates."""
from __future__ import annotations

from exportkb.explain import explain
from exportkb.case.loader import load_case

from .conftest import ROOT


def test_case_date_and_milestones_render_as_iso_dates(kb):
    case = load_case(ROOT / "examples" / "malaysia-cn-parent.yaml", kb)
    text = explain(case, "license_requirement(gpus, hq_d5_macau)", kb=kb).render("text")
    assert "the transaction takes place on 2025-09-01." in text
    assert "the rule effective date is 2025-01-13." in text  # {Name:words}: the identifier read as words
    assert "20250901" in text  # the comparison itself is shown as the solver evaluated it
