"""exportkb — US export controls on advanced AI as rules-as-code, solved by clingo.

Library use::

    from exportkb import KnowledgeBase, Solver, load_case
    kb = KnowledgeBase.load()              # parse kb/ once per process
    case = load_case("examples/uae-datacenter.yaml", kb)
    det = Solver(kb).determine(case)
    det.items["gpus"].license_required    # True
"""
from __future__ import annotations

from .determination import Determination, ItemDetermination, Requirement
from .errors import CaseError, ExportKBError, KBError, SolveError
from .kb import KnowledgeBase
from .loader import ReadyCase, case_from_data, load_case, load_ready, ready, ready_from_data
from .model import Case, Item, Party
from .solver import SolveOptions, Solver



def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # ~70-100 ms: only when asked

    try:
        return version("exportkb")
    except PackageNotFoundError:  # running from a source tree
        return "0.0.0+src"


def __getattr__(name: str) -> str:
    """``exportkb.__version__``, computed on first use: reading package metadata costs more than
    a 1,000-case batch's share of start-up, and most runs never print the version."""
    if name == "__version__":
        value = _version()
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "Case", "CaseError", "Determination", "ExportKBError", "Item", "ItemDetermination", "KBError",
    "KnowledgeBase", "Party", "ReadyCase", "Requirement", "SolveError", "SolveOptions", "Solver", "case_from_data",
    "load_case", "load_ready", "ready", "ready_from_data", "__version__",
]
