"""The KB lint for the stratified fragment (kb/README.md), shared with `exportkb lint`."""
from __future__ import annotations

import clingo.ast

from ..kb import KnowledgeBase
from .translate import statement_place, translate


def locator(kb: KnowledgeBase):
    """``file:line`` of a KB statement (the parser only knows ``<string>:line``)."""
    places = {(r.text, r.line): f"{r.file}:{r.line}" for r in kb.rules}

    def locate(stmt: clingo.ast.AST) -> str:
        return places.get((str(stmt), stmt.location.begin.line)) or statement_place(stmt)

    return locate


def fragment_problems(kb: KnowledgeBase) -> list[str]:
    """Every statement of *kb* outside the fragment a pyDatalog translation can follow.

    Empty when the KB uses only rules, default negation, comparisons, +/-/*
    arithmetic and body ``#sum``/``#count`` aggregates, and is stratified.
    Choice rules, disjunction, constraints, weak constraints/optimisation,
    pools, intervals, conditional literals, theory atoms, ``#const``,
    ``#external``, program parts and ``#show`` of terms are each reported with
    file:line and the statement.
    """
    return list(translate(kb.statements, locator(kb)).problems)
