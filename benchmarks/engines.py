"""Cases per second for the two engines on the regression corpus (tests/cases/**, not bad/).

clingo: the corpus replicated to about --clingo-cases cases (each copy with its own case id),
solved by Solver.determine_many in its default chunks. pyDatalog: the corpus once (or
--pydatalog-cases of it), solved by PyDatalogEngine.determine_many. Medians of --runs runs.

    /tmp/venv/bin/python benchmarks/engines.py [--clingo-cases 1000] [--runs 3]

Figures are recorded in docs/regression-suites.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

from exportkb import KnowledgeBase, Solver
from exportkb.engines import PyDatalogEngine
from exportkb.case.loader import load_case

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "cases"


def corpus(kb: KnowledgeBase):
    files = sorted(p for ext in ("*.yaml", "*.yml", "*.json") for p in CASES.rglob(ext)
                   if "bad" not in p.relative_to(CASES).parts)
    return [load_case(p, kb) for p in files]


def replicate(cases, n: int):
    out = []
    i = 0
    while len(out) < n:
        c = cases[i % len(cases)]
        out.append(c.model_copy(update={"case": f"{c.case}#{i}"}))
        i += 1
    return out


def rate(fn, cases, runs: int) -> tuple[float, float, float]:
    """(cases/s by CPU time, median wall seconds, median CPU seconds).

    CPU time (this process) is the figure to compare: on a shared machine wall time
    mostly measures the other processes.
    """
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        dets = list(fn(cases))
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        assert len(dets) == len(cases)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    return len(cases) / cpu, wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clingo-cases", type=int, default=1000)
    ap.add_argument("--pydatalog-cases", type=int, default=0, help="0 = the whole corpus once")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    kb = KnowledgeBase.load()
    base = corpus(kb)
    print(f"corpus: {len(base)} cases; KB {kb.version}, {len(kb.rules)} statements; "
          f"{platform.python_version()}, {os.cpu_count()} cores")
    many = replicate(base, args.clingo_cases)
    r, w, t = rate(Solver(kb).determine_many, many, args.runs)
    print(f"clingo    : {len(many):5d} cases in {t:6.2f} s CPU ({w:6.2f} s wall) = {r:8.1f} cases/s")
    start = time.perf_counter()
    engine = PyDatalogEngine(kb)
    print(f"pyDatalog : translation of kb/ {time.perf_counter() - start:.2f} s "
          f"({engine.stats.rules} rules, {engine.stats.strata} components)")
    few = base[: args.pydatalog_cases] if args.pydatalog_cases else base
    r, w, t = rate(engine.determine_many, few, args.runs)
    print(f"pyDatalog : {len(few):5d} cases in {t:6.2f} s CPU ({w:6.2f} s wall) = {r:8.1f} cases/s")
    _one, w1, t1 = rate(engine.determine_many, few[:1], 1)
    print(f"pyDatalog : 1 case in {t1:.2f} s CPU ({w1:.2f} s wall): the fixed cost of a batch (loading the program)")


if __name__ == "__main__":
    main()
