"""One case file, one answer: every command reads a case file the same way (issue 12 item 2).

A case's ``reform:`` list and its ``expect.as_of`` date change the determination; each command must
apply both (``exportkb.case.loader.ready``). Two cases, each written so that its answer differs with and
without the instruction:

* REFORM — exactly 10^26 training operations under the reform ``4e091-threshold-inclusive``: the
  weights are 4E091 and need a license (on the shipped law they are not 4E091);
* AS_OF — the 3A090.a shipment to Germany of aia-we01, evaluated ``as_of`` 2024-12-01, before the
  rule took effect: out of the KB's scope (dated 2025-06-01 it needs a license).

Each command is asked about each case and must give the determination of the ready case.
"""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

import exportkb.cli as cli
from exportkb.batch import Writer, read_rows, run_batch
from exportkb.case.loader import load_case, read_document
from exportkb.solve.laws import load_ready
from exportkb.solve.solver import Solver
from exportkb.suites.runner import Runner

from .conftest import CASES

REFORM_CASE = CASES / "model_weights" / "mw-exactly-1e26-inclusive-reform.yaml"
GERMANY = CASES / "aia" / "aia-we01-germany.yaml"


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("paths")
    reform = folder / "reform.yaml"
    reform.write_text(REFORM_CASE.read_text(encoding="utf-8"), encoding="utf-8")
    data, _ = read_document(GERMANY)
    data = dict(data, case="germany-as-of", expect={"as_of": "2024-12-01", "in_scope": False})
    as_of = folder / "as_of.json"
    as_of.write_text(json.dumps(data), encoding="utf-8")
    return {"reform": reform, "as_of": as_of}


@pytest.fixture
def run(kb, monkeypatch):
    monkeypatch.setattr(cli.common, "KnowledgeBase", SimpleNamespace(load=lambda path=None: kb))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli.main, [str(a) for a in args])
    return invoke


def test_the_two_instructions_change_the_answer(kb, cases):
    """Without applying them the answers differ: the other tests of this file can fail."""
    plain = list(Solver(kb).determine_many([load_case(cases["reform"], kb), load_case(cases["as_of"], kb)]))
    assert plain[0].items["weights"].eccn != "4E091" and not plain[0].items["weights"].license_required
    assert plain[1].in_scope and plain[1].items["gpus"].license_required
    r, a = load_ready(cases["reform"], kb), load_ready(cases["as_of"], kb)
    assert r.reforms == ("4e091-threshold-inclusive",) and r.kb is not kb
    assert a.case.date.isoformat() == "2024-12-01" and a.kb is kb


def test_check(run, cases):
    for name in ("reform", "as_of"):
        result = run("check", "--json", cases[name])
        assert result.exit_code == 0, result.output  # the expectations (written for the ready case) hold
        det = json.loads(result.stdout)
        assert det["expect_mismatches"] == []
    assert json.loads(run("check", "--json", cases["reform"]).stdout)["items"]["weights"]["eccn"] == "4E091"
    assert json.loads(run("check", "--json", cases["as_of"]).stdout)["in_scope"] is False


def test_test_command_and_the_runner_shared_with_the_pytest_plugin(run, cases, kb):
    result = run("test", cases["reform"], cases["as_of"])
    assert result.exit_code == 0, result.output
    outcomes = Runner(kb).run([load_case(cases["reform"], kb), load_case(cases["as_of"], kb)])
    assert [o.status for o in outcomes] == ["passed", "passed"]
    assert outcomes[0].determination.items["weights"].eccn == "4E091"
    assert outcomes[1].determination.in_scope is False


def _goals(stdout: str) -> list[str]:
    data = json.loads(stdout)
    return [p["goal"] for p in (data if isinstance(data, list) else [data])]


def test_explain_and_verify(run, cases, tmp_path):
    reform = run("explain", cases["reform"], "--format", "json")
    assert reform.exit_code == 0, reform.output
    assert "license_required(weights)" in _goals(reform.stdout)
    as_of = run("explain", cases["as_of"], "--format", "json")
    assert as_of.exit_code == 0, as_of.output
    assert "license_required(gpus)" not in _goals(as_of.stdout)
    for name, text in (("reform", reform.stdout), ("as_of", as_of.stdout)):
        proof = tmp_path / f"{name}.json"
        proof.write_text(text, encoding="utf-8")
        checked = run("verify", proof)
        assert checked.exit_code == 0, checked.output  # checked under the same law and date
        assert "INVALID" not in checked.stdout


def test_explain_html(run, cases, tmp_path):
    out = tmp_path / "reform.html"
    result = run("explain-html", cases["reform"], "-o", out, "--why", "license_required(weights)")
    assert result.exit_code == 0, result.output
    assert "4E091" in out.read_text(encoding="utf-8")
    result = run("explain-html", cases["as_of"], "-o", out, "--why-not", "license_required(gpus)")
    assert result.exit_code == 0, result.output
    assert "2024" in out.read_text(encoding="utf-8")


def test_batch_rows_and_verify_batch(run, cases, tmp_path):
    log = tmp_path / "log.jsonl"
    rows = [read_document(cases["reform"])[0], read_document(cases["as_of"])[0]]
    log.write_text("\n".join(json.dumps(r, default=str) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "results.jsonl"
    with out.open("w", encoding="utf-8") as fh:
        writer = Writer(fh, "jsonl")
        summary = run_batch(read_rows(log), proofs="all", on_result=writer.write_result)
    assert summary.errors == 0
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert got[0]["items"]["weights"]["eccn"] == "4E091" and got[0]["expect_mismatches"] == []
    assert got[1]["in_scope"] is False and got[1]["expect_mismatches"] == []
    checked = run("verify-batch", out, "--input", log)
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.count("valid line") == 2


def test_whatif(run, cases):
    result = run("whatif", cases["reform"], "--vary", "to=IN,DE", "--json")
    assert result.exit_code == 0, result.output
    assert {r["eccn"] for r in json.loads(result.stdout)} == {"4E091"}
    result = run("whatif", cases["as_of"], "--vary", "to=DE,FR", "--json")
    assert result.exit_code == 0, result.output
    assert {r["in_scope"] for r in json.loads(result.stdout)} == {False}


def test_compare(run, cases):
    """Dated 2025-06-01, removing AIA changes the German shipment; as of 2024-12-01 nothing applies."""
    result = run("compare", cases["as_of"], "--reform", "no-aia", "--json", "--no-rules")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_counterfactual(run, cases):
    result = run("counterfactual", cases["reform"], "--goal", "not license_required(weights)", "--format", "json",
                 "--max-changes", "1")
    assert json.loads(result.stdout)["goal_holds_already"] is False  # under the reform the license is required
    result = run("counterfactual", cases["as_of"], "--goal", "license_required(gpus)", "--format", "json",
                 "--max-changes", "1", "--keep", "date")
    assert json.loads(result.stdout)["goal_holds_already"] is False  # out of scope as of 2024-12-01


pytest_plugins = ["pytester"]


def test_pytest_plugin(pytester, cases):
    """Plain ``pytest`` on the two case files: both pass only when reform: and as_of are applied."""
    pytester.makefile(".case.yaml", reform=cases["reform"].read_text(encoding="utf-8"))
    pytester.makefile(".case.json", as_of=cases["as_of"].read_text(encoding="utf-8"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
