"""Shared fixtures: one KnowledgeBase and one Solver per test session (the KB is parsed once)."""
from __future__ import annotations

from pathlib import Path

import pytest

from exportkb import KnowledgeBase, Solver

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "cases"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


@pytest.fixture(scope="session")
def solver(kb) -> Solver:
    return Solver(kb)


@pytest.fixture(scope="session")
def voc(kb):
    """The KB's vocabularies for hypothesis strategies (tests/strategies.py)."""
    from .strategies import Vocabulary
    return Vocabulary(kb)
