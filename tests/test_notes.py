"""Notes as people read them (exportkb.explain.notes): grouped by kind, worded, with the deriving rule's reading and citation."""
from __future__ import annotations

import re

from click.testing import CliRunner

from exportkb import cli
from exportkb.explain.notes import kind_words, note_groups

from .conftest import ROOT


def test_every_note_the_kb_derives_has_a_reading_and_a_citation(kb):
    names = set()
    for path in (ROOT / "kb").rglob("*.lp"):
        names |= set(re.findall(r"^note\(C,\s*([a-z]\w*)", path.read_text(encoding="utf-8"), re.M))
    assert len(names) > 30
    missing = sorted(n for n in names if not all(kb.note_readings.get(n, ("", ""))))
    assert missing == []


def test_notes_of_one_kind_are_one_sentence(kb):
    notes = ['h200_condition_not_met("gpus",us_supply)', 'h200_condition_not_met("gpus",us_volume_limit)',
             'h200_condition_not_met("chips",us_supply)', "lpp_740_2_gap"]
    groups = note_groups(kb, notes)
    assert [g.name for g in groups] == ["h200_condition_not_met", "lpp_740_2_gap"]
    h200 = groups[0]
    assert h200.concerns() == "gpus: US supply, US volume limit; chips: US supply"
    assert h200.cite.startswith("91 FR 1684") and h200.sentence().startswith("H200 condition not met (gpus: ")
    assert "740.2(a)(9)(ii)" in groups[1].cite and groups[1].args == []


def test_a_note_id_in_words():
    assert kind_words("no_pre_ifr_exception_in_enforced_regime") == "no pre IFR exception in enforced regime"
    assert kind_words("weights_not_4e091") == "weights not 4E091"
    assert kind_words("a_note_the_kb_does_not_know") == "a note the kb does not know"


def test_compound_arguments_in_words(kb):
    [g] = note_groups(kb, ["red_flags_not_evaluated(text_not_found,diversion_red_flags_unnamed(5))"])
    assert g.concerns() == "text not found: diversion red flags unnamed (5)"


def test_an_unknown_note_is_still_shown(kb):
    [g] = note_groups(kb, ['made_up_note("x")'])
    assert g.reads == "" and g.cite == "" and g.sentence() == "Made up note (x)"


def test_check_prints_grouped_cited_notes(tmp_path):
    case = tmp_path / "cn.yaml"
    case.write_text("""case: h100-cn
date: 2026-06-01
transaction: export
from: US
to: CN
items:
  - {id: gpus, eccn: 3A090.a, quantity: 100, tpp: 15832, designer_approved: true}
parties:
  - {id: dc, role: ultimate_consignee, country: CN, headquarters: CN, ultimate_parent_headquarters: CN}
""", encoding="utf-8")
    res = CliRunner().invoke(cli.main, ["check", str(case)])
    notes = [line for line in res.output.splitlines() if line.startswith("note: ")]
    h200 = [line for line in notes if "H200" in line]
    assert len(h200) == 1, notes          # seven missing conditions, one line
    assert "gpus: " in h200[0] and "US supply" in h200[0] and h200[0].endswith("[91 FR 1684]")
    assert not any(re.search(r"\w\(\"", line) for line in notes), "no note is a bare KB term"
