"""Solving the determinations of concurrent requests together.

Why: one case through the residual program costs about 8 ms, almost all of it clingo's fixed cost
per rule (a fresh control, the residual rules kept for the case, grounding). Under load, requests
wait for the solver anyway (clingo controls are not shared between threads), so the ones that
arrive while a solve runs are taken together on the next turn, in one grounding of the residual
program (:meth:`Solver.determine_together`): the rules the cases keep overlap, so two cost about
1.2 times one (2026-12-04, the examples: 1 case 8.3 ms, 2 9.8 ms, 4 13.1 ms, 8 18.5 ms, 32 50 ms;
the full program's chunk of 4 costs ~28 ms). A request that arrives alone is solved alone, exactly
as before; a group solved together gets the very determinations it would alone (tests/test_server.py
and tests/test_server_coalesce.py check it on the regression corpus).

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

#: From this many waiting cases (of one law) they are solved in one grounding (see the module docstring).
CHUNK_FROM = 2
#: The most cases taken in one turn (32 take ~50 ms together: the wait of the last request stays short).
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
                    dets = solver.determine_together([j.ready.case for j in group])
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
