"""`exportkb verify-batch`: the compact proofs of batch rows, expanded and checked against their input rows.

The rows come from the regression case aia-we01-germany (a 3A090.a shipment to a German ultimate
consignee on 2025-06-01: license required under 15 CFR 742.6(a)(6)(iii), AIA and LPP available) and
from the same shipment dated before the rule took effect (13 Jan 2025): its one determination is that
it is out of this KB's scope.
"""
from __future__ import annotations

import json
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
