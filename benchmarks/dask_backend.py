"""The Dask backend against the local batch, in one run: throughput, per-partition overhead, N machines.

    python -m benchmarks.dask_backend                 # 100,000 cases (the issue's row; run it on quiet cores)
    python -m benchmarks.dask_backend --cases 3000    # a smoke run

Rows: the local batch `--jobs 2`, then `--backend dask` with 1 and 2 local workers, each as a fresh
`exportkb batch` process on the same generated log (wall seconds, cases/s, ratio to local --jobs 2, CPU
seconds of the run's processes; outputs compared byte for byte). The local and 2-worker runs are made
``--repeat`` times in alternating order and every pair is printed; the table shows the median pair. Per-partition overhead, two ways: (a) the round trip of 200 empty
partitions through a 2-worker LocalCluster (scheduling, pickling, the result back), and (b) in the
2-worker run, (wall × workers − Σ task CPU) / partitions (includes start-up and the idle tail, so an
upper bound). Projection: with per-partition solve cost t (measured) and overhead o, N machines of c
worker processes finish P partitions in about start + ceil(P / (N·c)) · (t + o); printed for N = 1,
2, 4, 8, 16 at c = 2. Printed as a Markdown block for benchmarks/RESULTS.md ("Dask backend").
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .generate import generate


def _batch(log: Path, out: Path, extra: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the run's processes: user + system of the command and its children)."""
    import resource

    cmd = [sys.executable, "-m", "exportkb.cli", "batch", str(log), "--out", str(out), "--quiet", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _overhead_empty(n: int = 200) -> float:
    """Seconds per partition for partitions with no rows, through a 2-worker LocalCluster."""
    from exportkb.batch.cluster import DaskBackend, connect

    with connect(local_workers=2) as client:
        backend = DaskBackend(client, partition_rows=1)
        from exportkb.batch.cluster import Partition, Settings, solve_partition
        from exportkb.kb import KnowledgeBase

        version = KnowledgeBase.load().version
        backend.check_workers(None, version)
        settings = Settings(None, 300.0, "none", 1000, version)
        client.gather([client.submit(solve_partition, Partition(0, "rows"), settings, pure=False)])  # warm
        began = time.perf_counter()
        futs = [client.submit(solve_partition, Partition(i, "rows"), settings, pure=False) for i in range(n)]
        client.gather(futs)
        return (time.perf_counter() - began) / n


def _in_process_two_workers(log: Path, partition_bytes: int) -> tuple[float, int, float]:
    """(wall, partitions, Σ task CPU) of the 2-worker run through the library, for the overhead bound."""
    from exportkb.batch import run_batch
    from exportkb.batch.cluster import DaskBackend, connect, split_input

    with connect(local_workers=2) as client:
        backend = DaskBackend(client)
        began = time.perf_counter()
        run_batch(split_input(log, partition_bytes), on_result=lambda r: None, backend=backend)
        wall = time.perf_counter() - began
    return wall, len(backend.timings), sum(t[3] for t in backend.timings)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--partition-bytes", type=int, default=1 << 20)
    ap.add_argument("--repeat", type=int, default=3,
                    help="pairs of (local --jobs 2, dask 2 workers) runs, alternating which goes first (default 3): "
                         "a shared 2-core machine's speed drifts by 10-20 %% between runs, so one pair is not a verdict")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat: at least 1")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp, "log.jsonl")
        with log.open("w", encoding="utf-8") as fh:
            for case in generate(args.cases):
                fh.write(json.dumps(case) + "\n")
        pb = ["--partition-bytes", str(args.partition_bytes)]
        local_cmd, dask2_cmd = ["--jobs", "2"], ["--backend", "dask", "--local-workers", "2", *pb]
        walls, cpus, outs = {}, {}, {}
        pairs: list[tuple[float, float, float, float]] = []  # (local wall, dask wall, local CPU, dask CPU)
        for n in range(args.repeat):
            got = {}
            order = [("local", local_cmd), ("dask2", dask2_cmd)]
            for name, extra in (order if n % 2 == 0 else order[::-1]):
                out = Path(tmp, f"{name}.jsonl")
                got[name] = _batch(log, out, extra)
                outs[name] = out.read_bytes()
            pairs.append((got["local"][0], got["dask2"][0], got["local"][1], got["dask2"][1]))
        med = sorted(range(len(pairs)), key=lambda i: pairs[i][0] / pairs[i][1])[len(pairs) // 2]  # the median pair
        walls["local batch --jobs 2"], cpus["local batch --jobs 2"] = pairs[med][0], pairs[med][2]
        out = Path(tmp, "dask1.jsonl")
        walls["dask, 1 local worker"], cpus["dask, 1 local worker"] = _batch(
            log, out, ["--backend", "dask", "--local-workers", "1", *pb])
        outs["dask1"] = out.read_bytes()
        walls["dask, 2 local workers"], cpus["dask, 2 local workers"] = pairs[med][1], pairs[med][3]
        identical = len(set(outs.values())) == 1
        empty = _overhead_empty()
        wall2, parts, cpu = _in_process_two_workers(log, args.partition_bytes)
    bound = (wall2 * 2 - cpu) / max(parts, 1)
    per_part = cpu / max(parts, 1)
    local = walls["local batch --jobs 2"]
    print(f"### Dask backend ({args.cases:,} generated cases, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)\n")
    print(f"{args.repeat} pair(s) of local --jobs 2 and dask 2 workers, alternating; the median pair is in the table:\n")
    print("| pair | local wall s | dask wall s | × local --jobs 2 | local CPU s | dask CPU s |\n"
          "| ---: | ---: | ---: | ---: | ---: | ---: |")
    for i, (lw, dw, lc, dc) in enumerate(pairs, start=1):
        print(f"| {i} | {lw:.2f} | {dw:.2f} | {lw / dw:.3f} | {lc:.1f} | {dc:.1f} |")
    ratios = sorted(lw / dw for lw, dw, _, _ in pairs)
    print(f"\nmedian × local --jobs 2: {ratios[len(ratios) // 2]:.3f} (range {ratios[0]:.3f}–{ratios[-1]:.3f})\n")
    print("| run | wall s | cases/s | × local --jobs 2 | CPU s |\n| --- | ---: | ---: | ---: | ---: |")
    for name, w in walls.items():
        print(f"| {name} | {w:.2f} | {args.cases / w:,.0f} | {local / w:.2f} | {cpus[name]:.1f} |")
    print(f"\noutputs byte-identical: {identical}; partitions: {parts} of {args.partition_bytes:,} bytes; "
          f"solve CPU per partition {per_part * 1000:.0f} ms")
    print(f"per-partition overhead: {empty * 1000:.1f} ms (empty partitions, round trip), "
          f"≤ {bound * 1000:.0f} ms (2-worker run: wall × workers − task CPU, per partition)\n")
    # the fixed cost (process and cluster start-up, KB loads): the 2-worker CLI run minus its partitions' share
    start = max(walls["dask, 2 local workers"] - math.ceil(parts / 2) * (per_part + empty), 0.0)
    print(f"fixed start-up (measured, 2-worker CLI run minus its partitions): {start:.1f} s\n")
    print("| machines (2 workers each) | projected wall s | projected cases/s |\n| ---: | ---: | ---: |")
    for n in (1, 2, 4, 8, 16):
        w = start + math.ceil(parts / (2 * n)) * (per_part + empty)
        print(f"| {n} | {w:.1f} | {args.cases / w:,.0f} |")


if __name__ == "__main__":
    main()
