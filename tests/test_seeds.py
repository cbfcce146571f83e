"""Issue 16: any well-formed ECCN, part 746 (Russia/Belarus), the enforcement record and the timeline.

The figures are the reference's (../shared/reference/enforcement-and-screening.md §§1-5); the
licence answers are the regulation's (15 CFR 746.5, 746.8, 746.10), quoted in the cases of
tests/cases/{coverage,part746,enforcement}/.
"""
from __future__ import annotations

import datetime as dt

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import exportkb.cli as cli
from exportkb.analysis.queries import list_queries, load_query, run_query
from exportkb.case.eccn import eccn_problem, hts6, respelled, well_formed
from exportkb.case.loader import load_case

from .conftest import CASES

ERP_LOG = Path(__file__).parent / "data" / "erp-mixed-eccn.csv"


# --------------------------------------------------------------------------- item 1: ECCN syntax
@pytest.mark.parametrize("value", ["5A002.a", "5A992.c", "3A001.a.1", "4A994", "EAR99", "0Y521", "3A090.c", "9A610.x"])
def test_well_formed_eccns_are_accepted(kb, value):
    assert well_formed(value) and eccn_problem(value, kb.eccns) is None


@pytest.mark.parametrize("value,fix", [("4a994", "4A994"), ("ear-99", "EAR99"), ("EAR 99", "EAR99"),
                                       ("5A002a", "5A002.a"), ("5A002.A", "5A002.a")])
def test_hints_are_only_respellings_of_the_same_designation(value, fix):
    assert respelled(value) == fix


@pytest.mark.parametrize("value", ["4A99", "5A0O2.a", "foo", "4A9940", "5A002a1"])
def test_no_hint_where_no_respelling_is_right(kb, value):
    problem = eccn_problem(value, kb.eccns)
    assert problem is not None and "did you mean" not in problem[1]


def test_4a994_is_never_hinted_as_ear99(kb):
    """4A994 is a CCL entry; EAR99 means no CCL entry (15 CFR 734.3(c)): suggesting one for the other is wrong."""
    assert eccn_problem("4A994", kb.eccns) is None
    assert "EAR99?" not in (eccn_problem("4A99 4x", kb.eccns) or ("", ""))[1]


def test_hts6():
    assert hts6("8542.31.0001") == "854231" and hts6("854231") == "854231" and hts6("8542") is None
    assert hts6("solder") is None


# --------------------------------------------------------------------------- item 1: the ERP log
def test_erp_log_only_malformed_rows_reach_the_error_file(tmp_path):
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    result = CliRunner().invoke(cli.main, ["batch", str(ERP_LOG), "--out", str(out), "--errors", str(errors)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    with ERP_LOG.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    malformed = {r["eccn"] for r in rows if r["eccn"] in ("4a 99", "EAR-99x", "5A0O2.a", "4a994")}
    errs = [json.loads(line) for line in errors.read_text().splitlines()]
    assert len(errs) == len(malformed) == 4
    assert any("did you mean 4A994?" in e["error"] for e in errs)
    assert not any("EAR99?" in e["error"] for e in errs)
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(results) == len(rows) - 4  # every well-formed row is determined
    by_case = {r["case"]: next(iter(r["items"].values())) for r in results}
    row_of = {r["case"]: r for r in rows}
    for case, it in by_case.items():
        row = row_of[case]
        if row["to"] in ("RU", "BY") and row["eccn"] != "EAR99":
            assert it["license_required"] is True, case  # 746.8(a)(1): any item on the CCL
        if it["coverage"] == "not_covered" and row["to"] not in ("RU", "BY"):
            assert it["license_required"] is None, case  # never "no licence" for an uncovered ECCN
    assert "not covered (determined; ECCN outside the KB): 35" in result.stderr
    assert "errors: 4" in result.stderr


def test_summary_separates_not_covered_from_invalid(tmp_path):
    from exportkb.batch import read_rows, run_batch
    summary = run_batch(read_rows(ERP_LOG), chunk=20, on_result=lambda r: None).to_json()
    assert summary["errors"] == 4
    # 5A002.a, 5A992.c, 3A001.a.1, 4A994, 9A991.d, 1A999, 0Y521: 7 uncovered ECCNs x 5 destinations
    assert summary["not_covered"] == 35
    # unknown for the uncovered ECCNs outside Russia/Belarus: 7 x 3
    assert summary["license_unknown"] == 21


# --------------------------------------------------------------------------- item 4: the record
def test_new_queries_are_listed():
    names = {q.name for q in list_queries()}
    assert {"timeline", "enforcement-by-destination", "enforcement-by-violation", "enforcement-penalties-by-year",
            "enforcement-entity-list", "strike-force-timeline"} <= names


def test_penalties_by_year_match_the_reference(kb):
    # GlobalFoundries $500,000 + Indium $180,000 + Integra $3.3M + TE Connectivity $5.8M (reference §3)
    df = run_query(load_query("enforcement-penalties-by-year"), kb).set_index("year")
    assert df.loc[2024, "total_usd"] == 9_780_000 and df.loc[2024, "cases"] == 4


def test_russia_cases(kb):
    df = run_query(load_query("enforcement-by-destination"), kb, {"destination": "RU"})
    assert set(df["case"]) == {"indium", "ilya_kahn", "denis_postovoy", "integra"}


def test_entity_list_cases(kb):
    df = run_query(load_query("enforcement-entity-list"), kb).set_index("case")
    assert set(df.index) == {"globalfoundries", "lin_chen", "te_connectivity"}
    assert df.loc["lin_chen", "listed_since"] == "2014-08-01"


def test_violation_kinds(kb):
    df = run_query(load_query("enforcement-by-violation"), kb, {"kind": "entity_list"})
    assert set(df["case"]) == {"globalfoundries", "lin_chen", "te_connectivity"}
    assert len(run_query(load_query("enforcement-by-violation"), kb)) == 8


def test_strike_force_timeline(kb):
    df = run_query(load_query("strike-force-timeline"), kb)
    assert df["date"].min() == dt.date(2023, 2, 16)  # launched 16 Feb 2023 (reference §5); a date, not YYYYMMDD
    assert any("15 criminal cases" in t for t in df["event"])  # Year in Review (§1)


# --------------------------------------------------------------------------- item 6: the timeline
def test_timeline_january_2025(kb):
    df = run_query(load_query("timeline"), kb, {"from": "2025-01-01", "to": "2025-01-31"})
    events = " ".join(df["event"])
    assert "missile-technology" in events and "New Delhi" in events and "Year in Review" in events
    assert df["date"].between(dt.date(2025, 1, 1), dt.date(2025, 1, 31)).all()


def test_timeline_cli():
    result = CliRunner().invoke(cli.main, ["query", "timeline", "--param", "from=2025-07-01", "--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "252604X" in result.output
    assert '"date": "2025-07-' in result.output  # dates as dates in every output, not YYYYMMDD
    table = CliRunner().invoke(cli.main, ["query", "timeline", "--param", "from=2025-07-01"], catch_exceptions=False)
    assert "2025-07-" in table.output and "202507" not in table.output


# --------------------------------------------------------------------------- regression with a proof
@pytest.mark.parametrize("goal", ["license_requirement(preforms, ru_by_luxury)", "red_flag(g7_routing_change)",
                                  "red_flag(g7_remove_destination)"])
def test_indium_is_caught_with_a_checked_proof(tmp_path, goal):
    """BIS (23 Dec 2024): EAR99 items on Supp. No. 5 needed a licence under 746.10(a)(1); the red flags
    ignored were a last-minute routing change and a request to delete Russia references."""
    case = CASES / "enforcement_part746" / "indium-2022.yaml"
    run = CliRunner().invoke(cli.main, ["explain", str(case), "--why", goal, "--format", "json"], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    proof = tmp_path / "proof.json"
    proof.write_text(run.stdout, encoding="utf-8")
    if "ru_by_luxury" in goal:
        assert "746.10(a)(1)" in run.stdout and "items[0].hts" in run.stdout
    checked = CliRunner().invoke(cli.main, ["verify", str(proof)], catch_exceptions=False)
    assert checked.exit_code == 0 and "valid" in checked.output, checked.output


# --------------------------------------------------------------------------- item 5: China's catalogue
def test_cn_mofcom_answer_never_mixes_with_the_ear(kb, solver):
    """A cn_mofcom case reaches the KB only through foreign_* facts: no EAR atom appears in its answer."""
    from exportkb.solve.solver import SolveOptions, Solver
    case = load_case(CASES / "cn_mofcom" / "lfp-final-restricted.yaml", kb)
    det = Solver(kb, SolveOptions(atoms=True)).determine(case)
    assert det.regime == "cn_mofcom" and det.atoms
    assert all(a.startswith(("foreign_", "note(")) for a in det.atoms), det.atoms
    it = det.items["lfp-know-how"]
    assert it.license_required is True and it.requirements[0].id == "cn_mofcom:252604X"
    # the same facts under the EAR give an EAR answer and no foreign_ atom
    us = Solver(kb, SolveOptions(atoms=True)).determine(case.model_copy(update={"regime": "us_ear", "items": [
        case.items[0].model_copy(update={"technology": None, "technology_specs": None, "eccn": "EAR99"})]}))
    assert us.regime == "us_ear" and not any(a.startswith("foreign_") for a in us.atoms)
