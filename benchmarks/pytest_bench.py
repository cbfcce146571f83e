"""The same workloads as ``python -m benchmarks.run``, for pytest-benchmark (optional).

    pip install pytest-benchmark
    pytest benchmarks/pytest_bench.py --benchmark-only                 # 1,000 cases
    BENCH_N=10000 pytest benchmarks/pytest_bench.py --benchmark-only --benchmark-autosave

Why a separate file: pytest-benchmark gives statistics, history and comparisons across commits
(``--benchmark-compare``), which the report of ``benchmarks.run`` does not; it is not part of the
test suite (``testpaths = tests``), and skips itself when the plugin is not installed. Batch
workloads run the CLI in a fresh process, exactly as the harness does; warm single-case workloads
call the public API in this process. No assertion is on time.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("pytest_benchmark")

from benchmarks.measure import ROOT, exportkb_cmd, prepare, proof_paths  # noqa: E402

N = int(os.environ.get("BENCH_N", "1000"))
CASE = ROOT / "tests" / "cases" / "aia" / "aia-we01-germany.yaml"


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bench") / f"log{N}.jsonl"
    prepare(N, path, None)
    return path


@pytest.fixture(scope="module")
def warm():
    from exportkb import KnowledgeBase, Solver, load_case
    kb = KnowledgeBase.load()
    solver = Solver(kb)
    return kb, solver, load_case(CASE, kb)


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("proofs", ["none", "all"])
def test_batch(benchmark, log, tmp_path, jobs, proofs):
    out = tmp_path / "out.jsonl"
    cmd = [*exportkb_cmd(), "batch", str(log), "--out", str(out), "--jobs", str(jobs), "--proofs", proofs, "--quiet"]
    benchmark.extra_info["cases"] = N
    benchmark.pedantic(subprocess.run, args=(cmd,), kwargs={"check": True, "cwd": ROOT}, rounds=3, iterations=1)
    assert sum(1 for _ in out.open()) == N


def test_determine_warm(benchmark, warm):
    kb, solver, case = warm
    benchmark(lambda: solver.determine(case).to_json())


def test_determine_with_proofs_warm(benchmark, warm):
    kb, solver, case = warm
    label, fn = proof_paths(kb, solver, case)[0]  # the batch's own per-row proof path
    if isinstance(fn, str):
        pytest.skip(f"{label}: {fn}")
    benchmark.extra_info["path"] = label
    benchmark(fn)
