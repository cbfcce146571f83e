"""The `exportkb` command line: one module per command group, each a thin shell over the library.

:mod:`.app` holds the group (``exportkb check|validate|kb|schema``) and imports the other
command modules only when their command is named (``_LAZY_COMMANDS``), so ``exportkb
batch`` does not pay for rich tables, pandas or the test runner at start-up;
:mod:`.common` is what they share. The console script is ``exportkb.cli:main``.
"""
from __future__ import annotations

from .app import main
from .common import CONTEXT, get_kb, load_cases

__all__ = ["CONTEXT", "get_kb", "load_cases", "main"]
