"""`exportkb batch --proofs`: proofs attached in the worker are complete and accepted by the checker."""
from __future__ import annotations

import json

from exportkb.batch import Row, run_batch
from exportkb.explain import Proof
from exportkb.explain.verify import verify
from exportkb.loader import case_from_data, read_document

from .conftest import CASES


def _rows(paths):
    return [Row(n, read_document(p)[0], source=str(p)) for n, p in enumerate(paths, start=1)]


def test_batch_proofs_all_are_verified(kb):
    paths = sorted((CASES / "aia").glob("aia-we0*.yaml"))[:3]
    results = []
    run_batch(_rows(paths), proofs="all", on_result=results.append)
    assert [r.line for r in results] == [1, 2, 3]
    for path, res in zip(paths, results):
        proofs = res.output["proofs"]
        kinds = {p["goal"].split("(")[0] for p in proofs}
        assert "license_required" in kinds
        case = case_from_data(read_document(path)[0], kb, source=str(path))
        for data in proofs:
            assert verify(Proof.from_json(json.loads(json.dumps(data))), kb, case) == []


def test_batch_proofs_failed_only_for_failing_expectations(kb):
    data, _ = read_document(CASES / "aia" / "aia-we01-germany.yaml")
    wrong = json.loads(json.dumps(data, default=str))
    wrong["case"] = "deliberately-wrong"
    wrong["expect"] = {"gpus": {"license_required": False}}
    results = []
    run_batch([Row(1, data), Row(2, wrong)], proofs="failed", on_result=results.append)
    assert "proofs" not in results[0].output
    assert results[1].output["expect_mismatches"] and results[1].output["proofs"]
