"""The old module paths (before the re-layout of issue 13) as thin forwarding modules, for one release.

Each file in ``old_paths/`` is found as ``exportkb.<old name>`` (that folder is on
``exportkb.__path__`` after the package's own folder, so an old path never shadows a new
module) and calls :func:`moved`: importing it warns :class:`DeprecationWarning` once (a
module body runs once per process) and every attribute is read from the new module(s).
docs/architecture.md lists old → new.
"""
from __future__ import annotations

import importlib
import os
import sys
import warnings
from types import FrameType, ModuleType
from typing import Any, Callable

#: The release after which the old paths go.
REMOVED_IN = "0.2"


def importer_frame() -> FrameType | None:
    """The frame of the code that imports an old path: the first one outside this module, the old
    path's own module body and the import machinery (importlib, and loaders such as pytest's
    assertion rewriter, which run a module body from their ``exec_module``)."""
    old_paths = os.path.join(os.path.dirname(__file__), "old_paths")
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        machinery = (code.co_filename == __file__ or code.co_filename.startswith("<frozen")
                     or os.path.dirname(code.co_filename) == old_paths or code.co_name == "exec_module"
                     or str(frame.f_globals.get("__name__", "")).startswith("importlib"))
        if not machinery:
            return frame
        frame = frame.f_back
    return None


def moved(old: str, *new: str, alias: bool = False) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Warn that module *old* moved to *new* (the first is where most of it went) and forward to them.

    Returns ``(__getattr__, __dir__, __all__)`` for the old module (PEP 562): a name is
    looked up in each new module in turn, so ``from exportkb.whatif import sweep`` and
    ``exportkb.whatif.sweep`` keep working. With *alias* the old name is made to *be* the
    new module in ``sys.modules`` (for the pytest plugin, which pytest must see as one
    object whatever name it was registered under).
    """
    message = (f"{old} is deprecated and will be removed in exportkb {REMOVED_IN}: import "
               + " / ".join(new) + " instead (docs/architecture.md lists the new module paths)")
    frame = importer_frame()
    if frame is None:  # pragma: no cover - imported with no Python caller
        warnings.warn(message, DeprecationWarning, stacklevel=2)
    else:
        g = frame.f_globals
        warnings.warn_explicit(message, DeprecationWarning, frame.f_code.co_filename, frame.f_lineno,
                               module=g.get("__name__", "<unknown>"), registry=g.setdefault("__warningregistry__", {}))
    targets: list[ModuleType] = [importlib.import_module(n) for n in new]
    if alias:
        sys.modules[old] = targets[0]

    def __getattr__(name: str) -> Any:
        for module in targets:
            try:
                return getattr(module, name)
            except AttributeError:
                continue
        raise AttributeError(f"module {old!r} has no attribute {name!r} (it moved to {' / '.join(new)})")

    def __dir__() -> list[str]:
        return sorted({n for module in targets for n in dir(module)})

    public = sorted({n for module in targets
                     for n in getattr(module, "__all__", [k for k in vars(module) if not k.startswith("_")])})
    return __getattr__, __dir__, public
