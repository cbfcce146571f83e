"""`exportkb batch --proofs`: the compact proof of a row expands to proofs the checker accepts."""
from __future__ import annotations

import json

import pytest

from exportkb.batch import Row, run_batch
from exportkb.explain import Proof
from exportkb.explain.expand import expand
from exportkb.explain.verify import verify
from exportkb.case.loader import case_from_data, read_document

from .conftest import CASES


def _rows(paths):
    return [Row(n, read_document(p)[0], source=str(p)) for n, p in enumerate(paths, start=1)]


def test_batch_proofs_all_are_verified(kb):
    paths = sorted((CASES / "aia").glob("aia-we0*.yaml"))[:3]
    results = []
    run_batch(_rows(paths), proofs="all", on_result=results.append)
    assert [r.line for r in results] == [1, 2, 3]
    for path, res in zip(paths, results):
        compact = json.loads(json.dumps(res.output["proofs"]))  # what a JSONL reader gets back
        assert compact["proof_format"] == "compact-1"
        case = case_from_data(read_document(path)[0], kb, source=str(path))
        proofs = expand(compact, kb, case)
        assert "license_required" in {p.goal.split("(")[0] for p in proofs}
        for proof in proofs:
            assert verify(Proof.from_json(proof.to_json()), kb, case) == []


def test_batch_proof_rows_are_compact(kb):
    """One DAG per row, no English: the row stays a small multiple of the determination."""
    data, _ = read_document(CASES / "aia" / "aia-we01-germany.yaml")
    results = []
    run_batch([Row(1, data)], proofs="all", on_result=results.append)
    out = results[0].output
    proof = out.pop("proofs")
    assert not any("statement" in nd for nd in proof["nodes"])
    assert len({nd["a"] for nd in proof["nodes"]}) == len(proof["nodes"])  # a shared step is one node
    assert len(json.dumps(proof)) < 40 * len(json.dumps(out))


def test_batch_proofs_failed_only_for_failing_expectations(kb):
    data, _ = read_document(CASES / "aia" / "aia-we01-germany.yaml")
    wrong = json.loads(json.dumps(data, default=str))
    wrong["case"] = "deliberately-wrong"
    wrong["expect"] = {"gpus": {"license_required": False}}
    results = []
    run_batch([Row(1, data), Row(2, wrong)], proofs="failed", on_result=results.append)
    assert "proofs" not in results[0].output
    assert results[1].output["expect_mismatches"] and results[1].output["proofs"]


def test_proofs_recorded_in_a_child_equal_proofs_recorded_here(kb, monkeypatch):
    """Each chunk's proofs are recorded in a forked child (clingo's symbols die with it): same proofs as in-process."""
    from exportkb.explain import attach
    if not attach.FORK:
        pytest.skip("no os.fork on this platform: the in-process path is the only one")
    paths = sorted((CASES / "lpp").glob("*.yaml"))[:3]
    cases = [case_from_data(read_document(p)[0], kb, source=str(p)) for p in paths]
    forked = [(c, {}) for c in cases]
    attach.attach_proofs(kb, {}, forked)
    monkeypatch.setattr(attach, "FORK", False)
    here = [(c, {}) for c in cases]
    attach.attach_proofs(kb, {}, here)
    assert [o for _, o in forked] == [o for _, o in here] and all(o["proofs"]["goals"] for _, o in here)


def test_a_failure_in_the_recording_child_is_raised_in_the_caller(kb, monkeypatch):
    from exportkb.explain import attach
    from exportkb.explain.compact import CompactRecorder
    from exportkb.explain.goals import ExplainError
    if not attach.FORK:
        pytest.skip("no os.fork on this platform")
    case = case_from_data(read_document(CASES / "aia" / "aia-we01-germany.yaml")[0], kb)

    def broken(self, cases):
        raise ValueError("no model")

    monkeypatch.setattr(CompactRecorder, "prove_many", broken)
    with pytest.raises(ExplainError, match="ValueError: no model"):
        attach.attach_proofs(kb, {}, [(case, {})])
