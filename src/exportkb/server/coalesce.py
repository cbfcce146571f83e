"""Solving the determinations of concurrent requests together.

Why: one case through the residual program costs about 7 ms, almost all of it fixed (a fresh
clingo control, the residual rules kept for the case, grounding); a chunk of cases through the
full program costs about 25 ms plus 0.5 ms per case (the figures at :data:`CHUNK_FROM`). Under load, requests wait for the
solver anyway (clingo controls are not shared between threads), so the ones that arrive while a
solve runs are taken together on the next turn, as `exportkb batch` takes its chunks. A request
that arrives alone is solved alone, exactly as before; a group solved together gets the very
determinations it would alone (``Solver.determine_many`` and ``Solver.determine`` are the same
function of the case: tests/test_server.py checks it on the regression corpus).

A group that fails (one case with no unique answer set, or over the time limit) is solved again
case by case, so each request gets its own answer or its own error and no request fails for
another's case.
"""
from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable, Sequence

from ..solve.determination import Determination
from ..solve.laws import ReadyCase
from ..solve.solver import Solver

#: Below this many waiting cases (of one law) the residual program, case by case, is cheaper than a chunk
#: (2026-12-04, the five examples in turn, medians: residual 7.0 ms a case; a chunk of 3 25.4 ms, of 4
#: 27.8 ms, of 5 26.5 ms, of 8 27.8 ms, of 16 32.0 ms, of 32 41.2 ms).
CHUNK_FROM = 4
#: The most cases taken in one turn (a chunk of 32 takes ~41 ms: the wait of the last request stays short).
MAX_GROUP = 32


@dataclass
class _Job:
    ready: ReadyCase
    future: Future


class Coalescer:
    """One solver thread that takes every request waiting when it is free and solves them together.

    ``solver_for(reforms)`` gives the solver of a law; ``lock`` is the lock every other user of
    those solvers (explain, what-if) holds, so that no clingo object is used by two threads.
    """

    def __init__(self, solver_for: Callable[[Sequence[str]], Solver], lock: threading.Lock) -> None:
        self._solver_for = solver_for
        self._lock = lock
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self.turns = 0        # solver turns taken (for the load benchmark's report)
        self.grouped = 0      # determinations that shared a chunk with another request

    def submit(self, r: ReadyCase) -> "Future[Determination]":
        """Queue *r* for the solver thread; its determination (or its error) arrives in the future.

        Why not only :meth:`determine`: the HTTP route awaits this future on its event loop
        (``asyncio.wrap_future``) instead of parking a thread-pool thread to wait for it, one thread
        hop less per request."""
        job = _Job(r, Future())
        self._ensure_thread()
        self._queue.put(job)
        return job.future

    def determine(self, r: ReadyCase) -> Determination:
        """The determination of *r*, solved with whatever else is waiting (blocks until it is done)."""
        return self.submit(r).result()

    def close(self) -> None:
        """Stop the solver thread after the requests already queued (the server's shutdown)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(30)
            self._thread = None

    # ------------------------------------------------------------------ the solver thread
    def _ensure_thread(self) -> None:
        with self._start:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="exportkb-solver", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs = [first]
            stop = False
            while len(jobs) < MAX_GROUP:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                jobs.append(nxt)
            groups: dict[tuple[str, ...], list[_Job]] = {}
            for j in jobs:
                groups.setdefault(tuple(j.ready.reforms), []).append(j)
            for reforms, group in groups.items():
                self._solve(reforms, group)
            if stop:
                return

    def _solve(self, reforms: tuple[str, ...], group: list[_Job]) -> None:
        self.turns += 1
        with self._lock:
            try:
                solver = self._solver_for(reforms)
            except BaseException as e:  # noqa: BLE001 - handed to every waiting request
                for j in group:
                    j.future.set_exception(e)
                return
            if len(group) >= CHUNK_FROM:
                try:
                    dets = list(solver.determine_many([j.ready.case for j in group]))
                except Exception:  # noqa: BLE001 - one case's failure: solve them one by one below
                    dets = None
                if dets is not None and len(dets) == len(group):
                    self.grouped += len(group)
                    for j, d in zip(group, dets):
                        j.future.set_result(d)
                    return
            for j in group:
                try:
                    j.future.set_result(solver.determine(j.ready.case))
                except BaseException as e:  # noqa: BLE001 - the request's own error, raised in its thread
                    j.future.set_exception(e)
