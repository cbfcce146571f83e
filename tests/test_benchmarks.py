"""The benchmark harness (benchmarks/run.py) end to end on tiny sizes, and its computed verdicts.

No timing assertions: speed goals live in the benchmark's own report. These tests check that one
command produces every row and the targets table, that a row that cannot run becomes "n/a
(reason)" instead of a crash, and that verdicts are computed from the figures.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import report, run

N = 20


@pytest.fixture(scope="module")
def full_run(tmp_path_factory) -> tuple[Path, Path, Path]:
    """One harness run over every row: N cases, one repetition per latency path."""
    tmp = tmp_path_factory.mktemp("bench")
    md, js, work = tmp / "RESULTS.md", tmp / "results.json", tmp / "work"
    md.write_text("# Hand-written title\n\nintro\n\n" + report.BEGIN + "\nold\n" + report.END
                  + "\n\n## Analysis\nkept\n")
    run.main(["--sizes", str(N), "--reps", "1", "--budget", "1", "--profile-size", str(N),
              "--out", str(md), "--json", str(js), "--workdir", str(work)])
    return md, js, work


def test_report_has_every_row_and_the_targets_table(full_run):
    md, js, _ = full_run
    text = md.read_text()
    assert text.startswith("# Hand-written title\n\nintro\n\n") and text.rstrip().endswith("## Analysis\nkept")
    assert "\nold\n" not in text  # the generated block was replaced, the text around it kept
    for label, _ in report.ROWS.values():
        assert f"| {N} | {label} |" in text
    for label in report.COLD.values():
        assert f"| {label} |" in text
    assert "| warm: `Solver.determine` + JSON |" in text
    assert "### Targets of issue 8" in text
    for name in report.TARGET_NAMES:
        assert f"| {name}" in text, name
    assert "| 100,000 cases with proofs ≤ 700 MB peak | n/a (" in text  # no 100k row in this run: said so
    assert "Python " in text and "clingo " in text and "machine: " in text


def test_figures_are_real_runs(full_run):
    _, js, _ = full_run
    res = json.loads(js.read_text())
    assert res["format"] == 2
    for key in report.ROWS:
        m = res["rows"][key][str(N)]
        assert report.ok(m), (key, m)
        assert m["cpu"] > 0 and m["peak_mb"] > 0
        if key != "clingo":  # every case answered (the generated cases are all valid)
            assert m["cases"] == m["expected"] == N, (key, m)
    for key in ("proofs1", "proofs2"):
        assert res["rows"][key][str(N)]["with_proofs"] == N
    cold = res["latency"]["cold"]
    assert set(cold) == set(report.COLD) and all("wall_ms" in m for m in cold.values()), cold
    warm = res["latency"]["warm"]
    assert warm["determine"]["wall_ms"]["n"] == 1
    assert any("wall_ms" in p for p in warm["paths"]), warm["paths"]
    assert res["profile"]["n"] == N and res["profile"]["total"] > 0


def test_merge_replaces_only_the_rows_run(full_run, tmp_path):
    md, js, work = full_run
    js2, md2 = tmp_path / "r.json", tmp_path / "R.md"
    js2.write_text(js.read_text())
    before = json.loads(js.read_text())
    run.main(["--only", "clingo", "--sizes", str(N), "--merge", "--json", str(js2), "--out", str(md2),
              "--workdir", str(work)])
    after = json.loads(js2.read_text())
    assert after["rows"]["batch1"] == before["rows"]["batch1"]
    assert after["latency"] == before["latency"]
    assert report.ok(after["rows"]["clingo"][str(N)])
    assert after["rows"]["clingo"][str(N)]["at"] >= before["rows"]["clingo"][str(N)]["at"]
    assert f"| {N} | {report.ROWS['proofs2'][0]} |" in md2.read_text()


def test_plan_lists_the_selected_rows(capsys):
    run.main(["--plan", "--sizes", "1000,10000", "--proof-sizes", "1000", "--skip", "cold"])
    out = capsys.readouterr().out
    assert "proofs1            1,000" in out and "proofs1           10,000" not in out
    assert "batch2            10,000" in out and "cold" not in out and "total ~" in out
    with pytest.raises(SystemExit, match="unknown row"):
        run.main(["--plan", "--only", "nope"])


def test_a_run_projected_past_its_limit_drops_the_largest_one_process_proofs_row():
    plan = run.Plan([("proofs1", 1000), ("proofs2", 100_000), ("proofs1", 100_000), ("warm", 1)], reps=1, budget=1)
    plan.done = 1
    run.drop_if_over(plan, 1.0, res := {"rows": {}})  # nothing measured yet: assumed rates never drop a row
    assert len(plan.steps) == 4
    plan.learn("proofs1", 1000, 11.0)  # 100 cases/s: 100,000 cases would take ~17 min
    run.drop_if_over(plan, 1.0, res)
    assert ("proofs1", 100_000) not in plan.steps and ("proofs2", 100_000) in plan.steps
    assert "skipped" in res["rows"]["proofs1"]["100000"]["na"]
    assert "--only proofs1 --sizes 100000 --merge" in res["rows"]["proofs1"]["100000"]["na"]


def _m(wall: float, cpu: float, **kw) -> dict:
    return {"wall": wall, "cpu": cpu, "peak_mb": 100.0, "tree_peak_mb": 150.0, "rc": 0, "load": 0.0,
            "cases": kw.pop("cases", 1000), "expected": 1000, "out_bytes": 1000, **kw}


def test_verdicts_are_computed_from_the_figures():
    res = {"config": {"sizes": [1000], "proof_sizes": [1000]}, "rows": {
        "clingo": {"1000": _m(1.0, 1.0)},
        "batch1": {"1000": _m(2.0, 2.0)},
        "batch2": {"1000": _m(2.0, 2.0)},           # wall 0.5× clingo; ideal 1.0/(2.0/2) = 1.0×
        "proofs2": {"1000": _m(0.25, 0.5, with_proofs=1000)},   # 4,000 cases/s wall
    }, "latency": {"warm": {"load": 0.0, "determine": {"wall_ms": {"p50": 2.0, "p99": 3.0, "n": 9},
                                                        "cpu_ms": {"p50": 2.0, "p99": 3.0, "n": 9}},
                            "paths": [{"label": "slow", "wall_ms": {"p50": 40.0, "p99": 50.0, "n": 9},
                                       "cpu_ms": {"p50": 30.0, "p99": 35.0, "n": 9}},
                                      {"label": "fast", "wall_ms": {"p50": 8.0, "p99": 9.0, "n": 9},
                                       "cpu_ms": {"p50": 12.0, "p99": 13.0, "n": 9}},
                                      {"label": "gone", "na": "ImportError: no"}]}}}
    rows = report.targets(res)
    batch = next(r for r in rows if r.startswith(f"| {report.TARGET_NAMES[0]}, 1,000"))
    assert "wall 0.50×, ideal 1.00×" in batch and "wall: missed by 1.80×; ideal: met" in batch
    proofs = next(r for r in rows if r.startswith(f"| {report.TARGET_NAMES[1]}, 1,000"))
    assert "4,000 cases/s wall" in proofs and "wall: met; ideal: met" in proofs
    latency = next(r for r in rows if r.startswith(f"| {report.TARGET_NAMES[2]}"))
    assert "8.0 ms wall, 12.0 ms CPU" in latency and "wall: met; CPU: missed by 1.20×" in latency
    assert "fast" in latency
    memory = next(r for r in rows if r.startswith(f"| {report.TARGET_NAMES[3]}"))
    assert "n/a (" in memory
    # a 100k proofs row over the memory bound
    res["rows"]["proofs2"]["100000"] = _m(100.0, 200.0, cases=100000, tree_peak_mb=900.0, with_proofs=100000)
    memory = next(r for r in report.targets(res) if r.startswith(f"| {report.TARGET_NAMES[3]} (100,000"))
    assert "900 MB all processes" in memory and "missed by 1.29× (all processes)" in memory


def test_a_row_that_could_not_run_is_reported_not_crashed():
    res = {"config": {"sizes": [1000]}, "rows": {
        "clingo": {"1000": _m(1.0, 1.0)},
        "batch2": {"1000": {"na": "timed out after 5 s", "load": 1.0}},
        "proofs2": {"1000": _m(1.0, 1.0, rc=2, stderr="Traceback...\nError: --proofs needs a thing")},
    }, "latency": {"warm": {"na": "exit 1: ImportError: x"}}}
    text = report.render(res)
    assert "n/a (timed out after 5 s)" in text
    assert "n/a (exit 2: Error: --proofs needs a thing)" in text
    assert "| warm | n/a (exit 1: ImportError: x)" in text
    for name in report.TARGET_NAMES:
        assert f"| {name}" in text
