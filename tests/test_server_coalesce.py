"""Concurrent `check` requests solved together (exportkb.server.coalesce) get the answers they get alone."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from exportkb.errors import ExportKBError
from exportkb.server.coalesce import CHUNK_FROM, Coalescer
from exportkb.server.service import Service

from .conftest import CASES


def _corpus(service: Service) -> list:
    out = []
    for p in sorted(CASES.rglob("*.yaml")):
        if "bad" in p.parts:
            continue
        try:
            out.append(service.read(p.read_bytes(), as_json=False))
        except ExportKBError:
            continue  # cases whose expectation is an error are tests/cases/bad's business
    return out


def test_grouped_determinations_equal_single_ones_on_the_regression_corpus(kb):
    service = Service(kb)
    ready = _corpus(service)
    assert len(ready) > 200
    alone = [service.laws.solver(r.reforms).determine(r.case).to_json() for r in ready]
    # Hold the solver's lock while every request queues, so that they are taken in groups.
    service.lock.acquire()
    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(service.check, r) for r in ready]
        threading.Event().wait(0.5)
        service.lock.release()
        together = [f.result() for f in futures]
    service.close()
    assert service.coalescer.grouped >= CHUNK_FROM, "the requests were not solved together"
    for r, a, t in zip(ready, alone, together):
        t = {k: v for k, v in t.items() if k != "expect_mismatches"}
        assert t == a, r.case.id


class _Solver:
    """A solver whose chunk fails (as when one case has no unique answer set): each case is then solved alone."""

    def __init__(self) -> None:
        self.single: list[str] = []

    def determine_together(self, cases):
        raise ExportKBError("chunk failed")

    def determine(self, case):
        self.single.append(case.id)
        if case.id == "broken":
            raise ExportKBError("broken: no unique answer set")
        return f"det-{case.id}"


def test_a_failing_group_is_solved_case_by_case_and_only_the_bad_request_fails():
    solver = _Solver()
    lock = threading.Lock()
    co = Coalescer(lambda reforms: solver, lock)
    jobs = [SimpleNamespace(case=SimpleNamespace(id=i), reforms=()) for i in ("a", "b", "broken", "c", "d")]
    lock.acquire()
    with ThreadPoolExecutor(max_workers=5) as pool:
        futures = [pool.submit(co.determine, j) for j in jobs]
        threading.Event().wait(0.3)
        lock.release()
        results = []
        for f in futures:
            try:
                results.append(f.result())
            except ExportKBError as e:
                results.append(str(e))
    co.close()
    assert results == ["det-a", "det-b", "broken: no unique answer set", "det-c", "det-d"]
    assert sorted(solver.single) == ["a", "b", "broken", "c", "d"]


def test_a_request_alone_is_solved_alone(kb):
    service = Service(kb)
    r = _corpus(service)[0]
    first, second = service.check(r), service.check(r)
    assert first == second
    assert service.coalescer.turns == 2 and service.coalescer.grouped == 0
    service.close()
