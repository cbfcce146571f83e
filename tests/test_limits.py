"""Limits: a solve that runs too long stops with a clear SolveError instead of hanging.

The shipped KB is stratified, so solving it is propagation only; a search-heavy
program cannot come from a case file. To exercise the limit we add one through
``Solver(extra_program=...)`` (the hook reforms use): the pigeonhole principle,
13 pigeons in 12 holes, is unsatisfiable and exponentially hard for CDCL solvers,
yet grounds in milliseconds. Grounding itself is not interruptible in-process;
see docs/trust.md.
"""
from __future__ import annotations

import time

import pytest

from exportkb.errors import SolveError
from exportkb.case.loader import load_case
from exportkb.solve.solver import SolveOptions, Solver

from .conftest import CASES

PIGEONHOLE = """
pigeon(1..13). hole(1..12).
{ sits(P, H) : hole(H) } = 1 :- pigeon(P).
:- sits(P, H), sits(Q, H), P < Q.
"""


def test_time_limit_stops_a_hard_solve_with_a_clear_error(kb):
    case = load_case(CASES / "aia" / "aia-we01-germany.yaml", kb)
    solver = Solver(kb, SolveOptions(time_limit=0.5), extra_program=PIGEONHOLE)
    start = time.monotonic()
    with pytest.raises(SolveError, match=r"exceeded the time limit of 0\.5 s \(first: 'aia-we01-germany'\); "
                                         r"raise it with --time-limit"):
        solver.determine(case)
    assert time.monotonic() - start < 60  # stopped, not run to completion (that takes far longer)


def test_the_shipped_kb_solves_well_within_the_default_limit(kb, solver):
    case = load_case(CASES / "aia" / "aia-we01-germany.yaml", kb)
    assert solver.options.time_limit is not None
    assert Solver(kb, SolveOptions(time_limit=5.0)).determine(case).items["gpus"].license_required


def test_the_limit_holds_solve_after_solve_with_one_watchdog(kb):
    """The watchdog thread serves every solve of a solver: a hard solve is stopped each time, fast
    ones in between are never interrupted (the deadline of one solve does not leak into the next)."""
    case = load_case(CASES / "aia" / "aia-we01-germany.yaml", kb)
    hard = Solver(kb, SolveOptions(time_limit=0.3), extra_program=PIGEONHOLE)
    fast = Solver(kb, SolveOptions(time_limit=0.3))
    for _ in range(2):
        with pytest.raises(SolveError, match="exceeded the time limit of 0.3 s"):
            hard.determine(case)
        for _ in range(5):
            assert fast.determine(case).items["gpus"].license_required


def test_the_watchdog_never_touches_a_control_after_its_block():
    """Disarmed on leaving the block, under the thread's lock: a deadline that passes afterwards does
    nothing (the control may be freed by then); one that passes inside the block interrupts once."""
    from exportkb.solve import watchdog as wd

    class Fake:
        def __init__(self) -> None:
            self.calls = 0

        def interrupt(self) -> None:
            self.calls += 1

    dog = wd.Watchdog()
    early, late = Fake(), Fake()
    with dog.limit(early, 0.05) as hit:
        time.sleep(0.3)
        assert hit()
    with dog.limit(late, 0.05) as hit:
        pass
    time.sleep(0.3)
    assert early.calls == 1 and late.calls == 0 and not hit()
    with dog.limit(late, None) as hit:  # no limit: nothing armed
        assert not hit()


def test_the_watchdog_thread_ends_when_idle(monkeypatch):
    from exportkb.solve import watchdog as wd

    monkeypatch.setattr(wd, "IDLE_EXIT", 0.1)
    dog = wd.Watchdog()

    class Fake:
        def interrupt(self) -> None:
            pass

    with dog.limit(Fake(), 5.0):
        thread = dog.thread
        assert thread is not None and thread.is_alive()
    thread.join(5)
    assert not thread.is_alive() and dog.thread is None
    with dog.limit(Fake(), 5.0):  # and starts again when needed
        assert dog.thread is not None and dog.thread.is_alive()
