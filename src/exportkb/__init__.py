"""exportkb — US export controls on advanced AI as rules-as-code, solved by clingo.

Library use::

    from exportkb import KnowledgeBase, Solver, load_case
    kb = KnowledgeBase.load()              # parse kb/ once per process
    case = load_case("examples/uae-datacenter.yaml", kb)
    det = Solver(kb).determine(case)
    det.items["gpus"].license_required    # True
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .determination import Determination, ItemDetermination, Requirement
from .errors import CaseError, ExportKBError, KBError, SolveError
from .kb import KnowledgeBase
from .loader import case_from_data, load_case
from .model import Case, Item, Party
from .solver import SolveOptions, Solver

try:
    __version__ = version("exportkb")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+src"

__all__ = [
    "Case", "CaseError", "Determination", "ExportKBError", "Item", "ItemDetermination", "KBError",
    "KnowledgeBase", "Party", "Requirement", "SolveError", "SolveOptions", "Solver", "case_from_data",
    "load_case", "__version__",
]
