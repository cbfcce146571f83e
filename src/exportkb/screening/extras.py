"""The optional matching libraries, imported in one place so a missing one is one clear message.

Why: screening is an extra (``exportkb[screening]``); a user who runs ``exportkb screen``
without it must read how to install it, not an ImportError traceback.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import ExportKBError

#: import name -> PyPI name, every library the screening extra installs
LIBRARIES = {
    "rapidfuzz": "rapidfuzz",
    "fingerprints": "fingerprints",
    "pypinyin": "pypinyin",
    "iuliia": "iuliia",
    "anyascii": "anyascii",
    "numpy": "numpy",
}


class MissingExtra(ExportKBError):
    """A library of the ``screening`` extra is not installed."""


def need(name: str) -> ModuleType:
    """Import ``name`` (one of :data:`LIBRARIES`) or raise :class:`MissingExtra` naming the fix."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise MissingExtra(
            f"restricted-party screening needs the Python package {LIBRARIES.get(name.split('.')[0], name)!r}"
            f" ({exc}) (fix: pip install 'exportkb[screening]')") from None
