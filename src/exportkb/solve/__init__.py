"""Solving: validated cases and the parsed KB in, determinations out — the solver, the residual split for single cases, clingo's C fast paths and the chunking.

:class:`Solver` grounds many cases per ``clingo.Control`` (:func:`chunked`), reads the
unique answer set (:mod:`.atoms`, or :mod:`.fastclingo` straight from clingo's C API)
into a :class:`Determination`; :mod:`.residual` makes one warm case cheap; :mod:`.laws`
keeps a solver per combination of reforms. Depends on
:mod:`exportkb.case` and :mod:`exportkb.kb` (docs/architecture.md).
"""
from __future__ import annotations

from .determination import Determination, ItemDetermination, Requirement
from .solver import DEFAULT_CHUNK, SolveOptions, Solver, chunked

__all__ = ["DEFAULT_CHUNK", "Determination", "ItemDetermination", "Requirement", "SolveOptions", "Solver", "chunked"]
