"""exportkb — US export controls on advanced AI as rules-as-code, solved by clingo.

The sub-packages follow the path of a case (docs/architecture.md): :mod:`exportkb.case`
(file → Case → facts), :mod:`exportkb.kb` (the rules), :mod:`exportkb.solve` (→ Determination),
:mod:`exportkb.explain` (→ proofs, checker), then :mod:`exportkb.analysis`, :mod:`exportkb.suites`,
:mod:`exportkb.batch`, :mod:`exportkb.engines` and the :mod:`exportkb.cli`.

Library use::

    from exportkb import KnowledgeBase, Solver, load_case
    kb = KnowledgeBase.load()              # parse kb/ once per process
    case = load_case("examples/uae-datacenter.yaml", kb)
    det = Solver(kb).determine(case)
    det.items["gpus"].license_required    # True
"""
from __future__ import annotations

import os as _os

from .case.loader import case_from_data, load_case
from .case.model import Case, Item, Party
from .errors import CaseError, ExportKBError, KBError, SolveError
from .kb import KnowledgeBase
from .solve.determination import Determination, ItemDetermination, Requirement
from .solve.laws import ReadyCase, load_ready, ready, ready_from_data
from .solve.solver import SolveOptions, Solver
from .version import package_version as _package_version

# The module paths of before the re-layout (exportkb.whatif, exportkb.solver, ...) still import for one
# release: each is a small module in old_paths/ that warns and forwards to the new one. The folder
# is searched after this package's own, so no old path can shadow a new module (docs/architecture.md).
__path__.append(_os.path.join(_os.path.dirname(__file__), "old_paths"))


def __getattr__(name: str) -> str:
    """``exportkb.__version__``, computed on first use: reading package metadata costs more than
    a 1,000-case batch's share of start-up, and most runs never print the version."""
    if name == "__version__":
        value = _package_version()
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "Case", "CaseError", "Determination", "ExportKBError", "Item", "ItemDetermination", "KBError",
    "KnowledgeBase", "Party", "ReadyCase", "Requirement", "SolveError", "SolveOptions", "Solver", "case_from_data",
    "load_case", "load_ready", "ready", "ready_from_data", "__version__",
]
