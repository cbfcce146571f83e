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
