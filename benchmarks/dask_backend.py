"""The Dask backend against the local batch, in one run: throughput, per-partition overhead, N machines.

    python -m benchmarks.dask_backend                 # 100,000 cases (the issue's row; run it on quiet cores)
    python -m benchmarks.dask_backend --cases 3000    # a smoke run

Rows: the local batch `--jobs 2`, then `--backend dask` with 1 and 2 local workers, each as a fresh
`exportkb batch` process on the same generated log (wall seconds, cases/s, ratio to local --jobs 2;
outputs compared byte for byte). Per-partition overhead, two ways: (a) the round trip of 200 empty
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


def _batch(log: Path, out: Path, extra: list[str]) -> float:
    cmd = [sys.executable, "-m", "exportkb.cli", "batch", str(log), "--out", str(out), "--quiet", *extra]
    began = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - began


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
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp, "log.jsonl")
        with log.open("w", encoding="utf-8") as fh:
            for case in generate(args.cases):
                fh.write(json.dumps(case) + "\n")
        pb = ["--partition-bytes", str(args.partition_bytes)]
        rows = [("local batch --jobs 2", ["--jobs", "2"]),
                ("dask, 1 local worker", ["--backend", "dask", "--local-workers", "1", *pb]),
                ("dask, 2 local workers", ["--backend", "dask", "--local-workers", "2", *pb])]
        walls, outs = {}, {}
        for name, extra in rows:
            out = Path(tmp, f"{len(walls)}.jsonl")
            walls[name] = _batch(log, out, extra)
            outs[name] = out.read_bytes()
        identical = len(set(outs.values())) == 1
        empty = _overhead_empty()
        wall2, parts, cpu = _in_process_two_workers(log, args.partition_bytes)
    bound = (wall2 * 2 - cpu) / max(parts, 1)
    per_part = cpu / max(parts, 1)
    local = walls["local batch --jobs 2"]
    print(f"### Dask backend ({args.cases:,} generated cases, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)\n")
    print("| run | wall s | cases/s | × local --jobs 2 |\n| --- | ---: | ---: | ---: |")
    for name, w in walls.items():
        print(f"| {name} | {w:.2f} | {args.cases / w:,.0f} | {local / w:.2f} |")
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
