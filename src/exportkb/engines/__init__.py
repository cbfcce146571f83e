"""Second engines for the knowledge base, to check clingo against an independent evaluator.

``fragment_problems(kb)`` lists every construct of `kb/` outside the stratified
fragment documented in kb/README.md (the fragment a pyDatalog translation can
follow); ``PyDatalogEngine`` evaluates cases with pyDatalog and returns the same
shown atoms and :class:`~exportkb.solve.determination.Determination` as the clingo
:class:`~exportkb.solve.solver.Solver`. See docs/regression-suites.md.
"""
from __future__ import annotations

from .fragment import fragment_problems
from .pydatalog_engine import PyDatalogEngine, evaluate
from .translate import Translation, TranslationError, translate

ENGINE_NAMES = ("clingo", "pydatalog")

__all__ = ["ENGINE_NAMES", "PyDatalogEngine", "evaluate", "Translation", "TranslationError", "fragment_problems", "translate"]
