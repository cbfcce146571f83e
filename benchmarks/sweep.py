"""Scenarios per second of a what-if sweep (exportkb.analysis.whatif.sweep).

The grid: the WE-01 case (500 x 3A090.a to a German data-center company,
tests/cases/aia/aia-we01-germany.yaml) over 100 destinations x 100 TPP values
of a chip classified from its specs = 10,000 scenarios, solved in chunks.

    python benchmarks/sweep.py                 # 10,000 scenarios, default chunk size
    python benchmarks/sweep.py --chunks 500 2000 5000 --repeat 3

Prints, per chunk size, the median time of building + validating the
scenarios, of solving them, of the whole sweep, and scenarios per second.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from exportkb import KnowledgeBase
from exportkb.analysis import whatif
from exportkb.case.loader import load_case
from exportkb.solve.solver import SolveOptions

ROOT = Path(__file__).resolve().parents[1]


def grid(kb: KnowledgeBase, size: int) -> tuple:
    """Load the base case and the axes of a grid of about *size* scenarios."""
    case = load_case(ROOT / "tests" / "cases" / "aia" / "aia-we01-germany.yaml", kb)
    data = whatif.case_data(case)
    data["items"][0].pop("eccn")  # classify from the specs, so TPP matters
    data["items"][0]["kind"] = "ic"
    case = whatif.case_from_data(data, kb)
    side = max(1, int(size ** 0.5))
    destinations = sorted(c for c in kb.countries if c != "US")[:side]
    tpps = list(range(1000, 1000 + 200 * (size // len(destinations)), 200))
    return case, {"to": destinations, "tpp": tpps}


def run(kb: KnowledgeBase, size: int, chunk: int) -> dict[str, float]:
    case, axes = grid(kb, size)
    t0 = time.perf_counter()
    pairs = list(whatif.scenarios(case, kb, axes))
    t1 = time.perf_counter()
    dets = whatif.determine([c for _, c in pairs], kb, options=SolveOptions(chunk_size=chunk))
    t2 = time.perf_counter()
    rows = [r for (v, _), d in zip(pairs, dets) for r in whatif.determination_rows(d, v)]
    whatif._pandas().DataFrame(rows)
    t3 = time.perf_counter()
    return {"n": len(pairs), "build": t1 - t0, "solve": t2 - t1, "table": t3 - t2, "total": t3 - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=10_000)
    ap.add_argument("--chunks", type=int, nargs="+", default=[whatif.SWEEP_CHUNK])
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    kb = KnowledgeBase.load()
    kb.countries  # parse and ground the KB's vocabulary once, outside the timing
    print(f"kb {kb.version}; {args.size} scenarios requested")
    print(f"{'chunk':>6} {'n':>7} {'build s':>8} {'solve s':>8} {'table s':>8} {'total s':>8} {'scen/s':>8}")
    for chunk in args.chunks:
        runs = [run(kb, args.size, chunk) for _ in range(args.repeat)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{chunk:>6} {int(med['n']):>7} {med['build']:>8.2f} {med['solve']:>8.2f} {med['table']:>8.2f} "
              f"{med['total']:>8.2f} {med['n'] / med['total']:>8.0f}")


if __name__ == "__main__":
    main()
