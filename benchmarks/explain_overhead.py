"""What explanations cost: plain solving vs recorded solving vs recorded + proofs built.

    /tmp/venv/bin/python -m benchmarks.explain_overhead            # ~2,000 cases
    /tmp/venv/bin/python -m benchmarks.explain_overhead --n 500 --proof-n 200

The corpus is tests/cases/ (without bad/), replicated with fresh case ids to
--n cases. Three measurements, each after one warm-up of the same kind:

  plain      Solver.determine_many (chunks of 500, one grounding per chunk)
  recorded   Recorder.record_many: the same KB plus the __fired/__aggel/__fact
             recording rules, the whole answer set read back per case
  proofs     recorded + a why-proof for every determination of every case
             (Explainer.cases + CaseExplanations.determinations), on --proof-n cases
  why-not    recorded + a why-not tree (depth 4) for every exception of the KB's
             catalogue that is not available, per item, on --proof-n cases
  verify     the independent checker on all those proofs, on --proof-n cases

Wall time and process CPU time are both printed, with the load average: the
machine may be shared, and CPU time is less distorted by other processes.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import clingo

from exportkb import KnowledgeBase, Solver, load_case
from exportkb.errors import CaseError
from exportkb.explain import Explainer
from exportkb.explain.verify import Checker

ROOT = Path(__file__).resolve().parents[1]


def corpus(kb: KnowledgeBase, n: int) -> list:
    base = []
    for p in sorted((ROOT / "tests" / "cases").rglob("*.yaml")):
        if "bad" in p.relative_to(ROOT / "tests" / "cases").parts:
            continue
        try:
            base.append(load_case(p, kb))
        except CaseError:
            continue
    out = []
    k = 0
    while len(out) < n:
        for c in base:
            if len(out) >= n:
                break
            out.append(c if k == 0 else c.model_copy(update={"case": f"{c.case}~{k}"}))
        k += 1
    return out


def timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - t0, time.process_time() - c0


def line(label: str, n: int, wall: float, cpu: float, extra: str = "") -> str:
    return (f"| {label:<10} | {n:>6} | {wall:8.2f} | {cpu:8.2f} | {n / wall:9.1f} | {n / cpu:9.1f} | {extra} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="cases for plain and recorded solving")
    ap.add_argument("--proof-n", type=int, default=None, help="cases for proof building (default: --n)")
    args = ap.parse_args()
    proof_n = args.proof_n or args.n
    kb = KnowledgeBase.load()
    cases = corpus(kb, args.n)
    solver = Solver(kb)
    explainer = Explainer(kb)
    list(solver.determine_many(cases[:50]))
    explainer.recorder.record_many(cases[:50])

    rows = [f"load average at start: {os.getloadavg()[0]:.2f} (2 cores); KB {kb.version}; {len(cases)} cases", "",
            "| what       |  cases |  wall s |   cpu s | cases/s wall | cases/s cpu | notes |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    _, w, c = timed(lambda: list(solver.determine_many(cases)))
    plain_cpu = c / len(cases)
    rows.append(line("plain", len(cases), w, c))
    _, w, c = timed(lambda: explainer.recorder.record_many(cases))
    rows.append(line("recorded", len(cases), w, c, f"x{(c / len(cases)) / plain_cpu:.1f} plain (cpu)"))

    subset = cases[:proof_n]

    def build_why():
        sessions = explainer.cases(subset)
        proofs = [(s, p) for s in sessions for p in s.determinations()]
        return sessions, proofs
    (sessions, proofs), w, c = timed(build_why)
    rows.append(line("proofs", len(subset), w, c, f"{len(proofs)} why-proofs, "
                     f"{sum(p.graph.number_of_nodes() for _, p in proofs) / max(1, len(proofs)):.0f} nodes each on average"))

    def build_why_not():
        out = []
        for s in sessions:
            key = clingo.String(s.model.key)
            for item in s.case.items:
                for x in sorted(kb.exception_names):
                    atom = clingo.Function("exception_available", [key, clingo.String(item.id), clingo.Function(x)])
                    if atom not in s.model.atoms:
                        out.append((s, s.why_not(atom)))
        return out
    why_nots, w, c = timed(build_why_not)
    rows.append(line("why-not", len(subset), w, c, f"{len(why_nots)} why-not trees (depth 4)"))

    def check_all():
        bad = 0
        by_case: dict[int, Checker] = {}
        for s, p in proofs + why_nots:
            checker = by_case.get(id(s))
            if checker is None:
                checker = by_case[id(s)] = Checker(kb, s.case)
            bad += bool(checker.check(p))
        return bad
    bad, w, c = timed(check_all)
    rows.append(line("verify", len(subset), w, c, f"{len(proofs) + len(why_nots)} proofs checked, {bad} rejected"))
    rows.append("")
    rows.append(f"load average at end: {os.getloadavg()[0]:.2f}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
