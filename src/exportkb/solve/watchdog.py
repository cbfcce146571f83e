"""A time limit for synchronous clingo solves: one sleeping thread that interrupts a control past its deadline.

Why: the time limit used to come from an asynchronous solve (``solve(async_=True)`` and
``handle.wait(limit)``), which hands every model between clingo's search thread and ours — 0.5 ms of a
group's 2 ms solve (2026-12-04, four example cases: async 2.14 ms, sync 1.66 ms). A synchronous solve
cannot time itself out, so this thread does it: ``with watchdog.limit(ctl, seconds) as hit:`` arms a
deadline; past it the thread calls ``ctl.interrupt()`` (thread-safe in clingo) and ``hit()`` turns
True. Arming and disarming take a lock, not a thread (a ``threading.Timer`` per solve costs
~100–250 µs). The deadline is disarmed under the same lock before the block ends, so the thread
never touches a control after its solve is over (and so never one that has been freed).

One watchdog per :class:`~exportkb.solve.Solver`; its thread starts on first use and ends after a
minute with nothing to watch (a process with many solvers does not keep idle threads).
"""
from __future__ import annotations

import contextlib
import itertools
import threading
import time
from typing import Any, Callable, Iterator

IDLE_EXIT = 60.0  # seconds without an armed deadline after which the thread ends


class Watchdog:
    """Interrupts armed clingo controls whose deadline has passed (see the module docstring)."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._armed: dict[int, list] = {}  # token -> [control, deadline, hit]
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None

    @property
    def thread(self) -> threading.Thread | None:
        """The watching thread while it runs (None when it has ended for lack of work)."""
        with self._cv:
            return self._thread

    @contextlib.contextmanager
    def limit(self, ctl: Any, seconds: float | None) -> Iterator[Callable[[], bool]]:
        """Interrupt *ctl* after *seconds* (None: never) while the block runs; yields ``hit()``."""
        if seconds is None:
            yield lambda: False
            return
        entry = [ctl, time.monotonic() + seconds, False]
        with self._cv:
            token = next(self._tokens)
            self._armed[token] = entry
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="exportkb-solve-watchdog", daemon=True)
                self._thread.start()
            self._cv.notify()
        try:
            yield lambda: entry[2]
        finally:
            with self._cv:
                self._armed.pop(token, None)

    def _run(self) -> None:
        with self._cv:
            idle_since = time.monotonic()
            while True:
                now = time.monotonic()
                if not self._armed:
                    if now - idle_since >= IDLE_EXIT:
                        self._thread = None
                        return
                    self._cv.wait(IDLE_EXIT)
                    continue
                idle_since = now
                due = [t for t, e in self._armed.items() if e[1] <= now]
                for t in due:
                    entry = self._armed.pop(t)
                    entry[2] = True
                    entry[0].interrupt()
                if self._armed:
                    self._cv.wait(max(0.0, min(e[1] for e in self._armed.values()) - now))
