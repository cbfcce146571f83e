"""Sentences as a lawyer reads them (exportkb.explain.plain): each rewrite, and what it leaves alone."""
from __future__ import annotations

import re

import pytest

from exportkb.explain import Explainer
from exportkb.explain.plain import atom_constants, comparison, law_name, plain
from exportkb.solve.laws import load_ready

from .conftest import ROOT


@pytest.mark.parametrize("raw, shown", [
    ("20250601 >= 20250515 holds", "1 June 2025 is on or after 15 May 2025"),
    ("20250301 >= 20250515 fails", "1 March 2025 is before 15 May 2025"),
    ("31664000 > 26900000 holds", "31,664,000 is more than 26,900,000"),
    ("31664000 <= 26900000 fails", "31,664,000 is more than 26,900,000"),
    ("export != service holds", "export is not service"),
    ("20250601 < 99991231 holds", "1 June 2025 is before the open end (no end date)"),
    ("31 < (26900000/1000000) fails", "31 is not less than 26 (26,900,000 ÷ 1,000,000)"),
])
def test_comparisons_in_words(raw, shown):
    assert comparison(raw) == shown


@pytest.mark.parametrize("raw, shown", [
    ("AE is a member of Country Group D:4 from 1900-01-01 until (open-ended).",
     "AE is a member of Country Group D:4 at every date this knowledge base covers (no start or end date)."),
    ("parameter lpp_annual_cap_tpp is 26900000 from 2025-01-13 until (open-ended).",
     "parameter lpp_annual_cap_tpp is 26,900,000 from 13 January 2025 onward (no end date)."),
    ("X is in group G from 1900-01-01 until 2025-05-12.", "X is in group G until 12 May 2025."),
    ("item gpus has a performance density of 39000 ten-thousandths.", "item gpus has a performance density of 3.9."),
    ("item 3A090.a has a TPP of 4800.", "item 3A090.a has a TPP of 4800."),     # an ECCN and a small number stay
    ("case 2025-06-01-deal is dated", "case 2025-06-01-deal is dated"),          # a date inside an id stays
    ("entry of SJ Semiconductor Co. (85 FR 83416, 12/22/20), 100000 units",       # a Federal Register page
     "entry of SJ Semiconductor Co. (85 FR 83416, 12/22/20), 100,000 units"),      # keeps citation style
])
def test_sentences(raw, shown):
    assert plain(raw) == shown


def test_constants_by_their_legal_names():
    assert law_name("rf28") == "red flag 28"
    assert law_name("rf28_apply_or_inform") == "red flag 28 (apply or inform)"
    assert law_name("lpp") == "LPP"
    assert law_name("weights_not_4e091") == "weights not 4E091"
    assert law_name("worldwide_a") == "worldwide_a"           # a KB-coined id stays findable in kb/
    # only constants rewrite: a case string (quoted in the atom) never does
    assert atom_constants('red_flag("c","rf28_x",rf28)') == {"rf28"}
    assert plain("red flag rf28 is raised for rf28_x.", frozenset({"rf28"})) == "red flag red flag 28 is raised for rf28_x."


@pytest.mark.parametrize("example", sorted(p.stem for p in (ROOT / "examples").glob("*.yaml")))
def test_no_placeholder_date_or_raw_density_in_any_rendering(kb, example):
    r = load_ready(ROOT / "examples" / f"{example}.yaml", kb)
    proofs = Explainer(r.kb).case(r.case).determinations()
    for p in proofs:
        for fmt in ("text", "markdown"):
            out = p.render(fmt)
            assert not re.search(r"(?<!\d)(19000101|99991231)(?!\d)", out)
            assert "(open-ended)" not in out and "ten-thousandths" not in out
            assert not re.search(r"\b20\d{6} (>=|<=|<|>|=|!=) ", out)


def test_piped_check_prints_a_plain_table_that_does_not_wrap(kb, monkeypatch):
    from types import SimpleNamespace

    from click.testing import CliRunner

    import exportkb.cli as cli
    monkeypatch.setattr(cli.common, "KnowledgeBase", SimpleNamespace(load=lambda path=None: kb))
    out = CliRunner().invoke(cli.main, ["check", str(ROOT / "examples" / "uae-datacenter.yaml")]).output
    row = next(line for line in out.splitlines() if line.startswith("gpus "))
    assert "worldwide_a 15 CFR 742.6(a)(6)(iii)" in row and "license_application_aggregate_tpp" in row
    assert "│" not in out and "┃" not in out
    assert any(line.startswith("figures: ") and line.endswith("LPP with shipment: 31,664,000 TPP")
               for line in out.splitlines())


def test_figures_are_worded_with_units_and_dates(kb, monkeypatch):
    """Figures in the text output: words, thousands separators, the unit, a deadline as a date —
    never ``veu_security_deadline = 20,260,115``; --json keeps the KB's ids and numbers."""
    from types import SimpleNamespace

    from click.testing import CliRunner

    import exportkb.cli as cli
    from exportkb.explain.plain import figure_words
    assert figure_words("allocation_remaining", 758_336_000) == "allocation remaining: 758,336,000 TPP"
    assert figure_words("allocation_tpp", 790_000_000) == "allocation: 790,000,000 TPP"
    assert figure_words("veu_security_deadline", 20260115) == "VEU security deadline: 15 January 2026"
    assert figure_words("nac_notification_days", 25) == "NAC notification: 25 days"
    assert figure_words("nveu_cap_h100eq", 100_000) == "NVEU cap: 100,000 H100-equivalents"
    assert figure_words("uveu_supp5a_after_tpp", 9) == "UVEU Supp. No. 5(a) after: 9 TPP"
    assert figure_words("allocation_remaining", -1) == "allocation remaining: -1 TPP"
    monkeypatch.setattr(cli.common, "KnowledgeBase", SimpleNamespace(load=lambda path=None: kb))
    case = str(ROOT / "tests" / "cases" / "worked_examples" / "we-11-uveu-malaysia.yaml")
    out = CliRunner().invoke(cli.main, ["check", case]).output
    line = next(x for x in out.splitlines() if x.startswith("figures: "))
    assert "VEU security deadline: 15 January 2026" in line and "20,260,115" not in line and "_" not in line
    js = CliRunner().invoke(cli.main, ["check", case, "--json"]).output
    assert '"veu_security_deadline": 20260115' in js
