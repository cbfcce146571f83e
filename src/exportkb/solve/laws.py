"""The law a case is solved under: each combination of reforms applied to the KB once per run, with a solver each.

Why in the solve layer: applying reforms is a KB operation (:func:`exportkb.kb.reforms.apply_reforms`),
but what a run keeps is a :class:`~exportkb.solve.Solver` per combination, and every front end
that solves cases under reforms (what-if, suites, batch, the CLI) sits above this layer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..kb.knowledge import KnowledgeBase
from ..kb.reforms import apply_reforms
from .solver import SolveOptions, Solver


@dataclass
class ReformCache:
    """Applies each combination of reforms once per run (loading overlays re-parses the KB)."""

    kb: KnowledgeBase
    options: SolveOptions | None = None
    folder: Path | None = None
    _solvers: dict[tuple[str, ...], Solver] = field(default_factory=dict)

    def solver(self, names: Sequence[str]) -> Solver:
        key = tuple(names)
        if key not in self._solvers:
            self._solvers[key] = Solver(apply_reforms(self.kb, key, self.folder), self.options)
        return self._solvers[key]
