"""`exportkb verify-batch`: the compact proofs of batch rows, expanded and checked against their input rows.

The rows come from the regression case aia-we01-germany (a 3A090.a shipment to a German ultimate
consignee on 2025-06-01: license required under 15 CFR 742.6(a)(6)(iii), AIA and LPP available) and
from the same shipment dated before the rule took effect (13 Jan 2025): its one determination is that
it is out of this KB's scope.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from exportkb.batch import Writer, read_rows, run_batch
from exportkb.cli import main
from exportkb.case.loader import read_document

from .conftest import CASES


@pytest.fixture(scope="module")
def batch_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vb")
    germany, _ = read_document(CASES / "aia" / "aia-we01-germany.yaml")
    early = dict(germany, case="before-rule", date="2024-12-01")
    log = folder / "log.jsonl"
    log.write_text("\n".join(json.dumps(d, default=str) for d in (germany, early)) + "\n", encoding="utf-8")
    out = folder / "results.jsonl"
    with out.open("w", encoding="utf-8") as fh:
        writer = Writer(fh, "jsonl")
        run_batch(read_rows(log), proofs="all", on_result=writer.write_result)
    return log, out


def run(*args: str):
    return CliRunner().invoke(main, ["verify-batch", *map(str, args)])


def test_every_row_is_expanded_and_valid(batch_files):
    log, out = batch_files
    result = run(out, "--input", log)
    assert result.exit_code == 0, result.output
    first, second = result.output.splitlines()
    assert first.startswith("valid line 1 case aia-we01-germany:") and " 0 proof(s)" not in first
    assert second.startswith("valid line 2 case before-rule: 1 proof(s)")


def test_show_prints_the_expanded_proofs_with_citations(batch_files):
    log, out = batch_files
    result = run(out, "--input", log, "--line", 1, "--show", "text")
    assert result.exit_code == 0, result.output
    assert "WHY license_required(gpus)" in result.output
    assert "15 CFR 742.6(a)(6)(iii)" in result.output


def test_a_tampered_step_is_invalid(batch_files, tmp_path):
    log, out = batch_files
    rows = [json.loads(t) for t in out.read_text(encoding="utf-8").splitlines()]
    root = rows[0]["proofs"]["nodes"][0]
    assert root["a"].startswith("license_required(")
    # The root step claims another requirement as its premise than the one its child proves.
    root["s"] = [v if v not in ("worldwide_a", "d_groups_b") else "hq_d5_macau" for v in root["s"]]
    assert "hq_d5_macau" in root["s"]
    bad = tmp_path / "tampered.jsonl"
    bad.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = run(bad, "--input", log, "--line", 1)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("INVALID line 1 case aia-we01-germany")


def test_wrong_input_or_no_proofs_is_exit_2(batch_files, tmp_path):
    log, out = batch_files
    other = tmp_path / "other.jsonl"
    other.write_text(log.read_text(encoding="utf-8").replace("aia-we01-germany", "someone-else"), encoding="utf-8")
    result = run(out, "--input", other, "--line", 1)
    assert result.exit_code == 2 and "the result row is case 'aia-we01-germany'" in result.output
    plain = tmp_path / "plain.jsonl"
    with plain.open("w", encoding="utf-8") as fh:
        writer = Writer(fh, "jsonl")
        run_batch(read_rows(log), on_result=writer.write_result)
    result = run(plain, "--input", log)
    assert result.exit_code == 2 and "has no compact proof" in result.output
    result = run(out, "--input", log, "--line", 9)
    assert result.exit_code == 2 and "no result rows for line(s) 9" in result.output


# ------------------------------------------------- the row's answers against its proofs (issue 12 item 7)
def _tampered(out: Path, tmp_path: Path, change) -> Path:
    rows = [json.loads(t) for t in out.read_text(encoding="utf-8").splitlines()]
    change(rows[0])
    bad = tmp_path / "tampered.jsonl"
    bad.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return bad


def _gpus(row: dict) -> dict:
    return row["items"]["gpus"]


def _drop_goal(row: dict) -> None:
    proofs = row["proofs"]
    goals = proofs["goals"]
    # drop the proof of the first exception (the row still says AIA and LPP are available)
    first = next(g for g in goals if proofs["nodes"][g]["a"].startswith("exception_available("))
    goals.remove(first)


# (tampering, words one problem line must contain)
ROW_FORGERIES = {
    "license_required flipped": (lambda r: _gpus(r).update(license_required=False), ["license_required"]),
    "exception added": (lambda r: _gpus(r)["exceptions_available"].append("ACM"), ["exceptions_available", "ACM"]),
    "exception removed": (lambda r: _gpus(r)["exceptions_available"].remove("LPP"), ["exceptions_available", "LPP"]),
    "red flag added": (lambda r: r["red_flags"].append("RF1"), ["red_flags", "RF1"]),
    "obligation changed": (lambda r: _gpus(r)["obligations"].__setitem__(0, "none_at_all"), ["obligations", "none_at_all"]),
    "case obligation added": (lambda r: r["obligations"].append("aia_recordkeeping"), ["obligations", "aia_recordkeeping"]),
    "presumption of denial": (lambda r: _gpus(r).update(presumption_of_denial=True), ["presumption_of_denial"]),
    "review policy changed": (lambda r: _gpus(r).update(license_review_policy="policy_of_denial"),
                              ["license_review_policy", "policy_of_denial"]),
    "review policy row changed": (lambda r: _gpus(r)["license_review_policies"][0].update(policy="case_by_case"),
                                  ["license_review_policy", "case_by_case"]),
    "requirement enforced": (lambda r: _gpus(r)["requirements"][0].update(enforced=True), ["enforced"]),
    "figure changed": (lambda r: r["figures"].update(lpp_tpp_with_shipment=1), ["figures", "lpp_tpp_with_shipment"]),
    "in_scope flipped": (lambda r: r.update(in_scope=False), ["in_scope"]),
    "proofs emptied": (lambda r: r["proofs"].update(goals=[]), ["no proof"]),
    "a proof dropped": (_drop_goal, ["no proof"]),
}


@pytest.mark.parametrize("name", sorted(ROW_FORGERIES))
def test_a_row_whose_answers_differ_from_its_proofs_is_invalid(batch_files, tmp_path, name):
    log, out = batch_files
    change, words = ROW_FORGERIES[name]
    result = run(_tampered(out, tmp_path, change), "--input", log, "--line", 1)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("INVALID line 1 case aia-we01-germany"), result.output
    problems = [line for line in result.output.splitlines() if line.startswith("  - ")]
    assert any(all(w in line for w in words) for line in problems), result.output


@pytest.mark.parametrize("proofs", [None, {}, [], "x"])
def test_a_row_with_proofs_removed_or_not_a_compact_proof_is_refused(batch_files, tmp_path, proofs):
    log, out = batch_files

    def change(row: dict) -> None:
        if proofs is None:
            row.pop("proofs")
        else:
            row["proofs"] = proofs
    result = run(_tampered(out, tmp_path, change), "--input", log, "--line", 1)
    assert result.exit_code == 2, result.output
    assert "line 1" in result.output and "fix:" in result.output and "Traceback" not in result.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_results_file_that_is_a_fifo_is_refused_without_hanging(batch_files, tmp_path):
    log, _ = batch_files
    fifo = tmp_path / "results.jsonl"
    os.mkfifo(fifo)
    exe = str(Path(sys.executable).with_name("exportkb"))
    try:  # a subprocess with a timeout: opening a FIFO for reading blocks until a writer comes
        done = subprocess.run([exe, "verify-batch", str(fifo), "--input", str(log)], capture_output=True, text=True,
                              timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("exportkb verify-batch hangs on a FIFO given as RESULTS.jsonl")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "not a regular file" in done.stdout + done.stderr
