"""Expansion: a compact proof (``compact-1``) + the KB + the case → format-1 :class:`Proof` objects.

Why: batch rows carry compact proofs (no English, shared steps once); a person or
``exportkb verify`` needs the format-1 proof of one determination. The expansion
re-walks the compact DAG in the order :class:`why.WhyBuilder` walks a derivation,
so the result is identical to ``CaseExplanations.determinations()`` (node ids,
edges, English from the ``%@`` templates, citations), and ``Checker`` — which
shares no code with either — checks it against the KB independently.

The case's internal key is the case id itself here: atoms in a compact proof
already carry the case id, and ``ProofBuilder`` strips it as the key.
"""
from __future__ import annotations

from typing import Any

import clingo

from ..kb import KnowledgeBase
from ..case.model import Case
from .build import ProofBuilder
from .compact import COMPACT_FORMAT
from .goals import ExplainError
from .proof import Proof
from .record import RecordingProgram
from .terms import substitute_text


class _CaseView:
    """What ProofBuilder reads from a recorded model: the case and its key (here the case id)."""

    def __init__(self, case: Case):
        self.case = case
        self.key = case.case


class _Expander:
    def __init__(self, kb: KnowledgeBase, program: RecordingProgram, case: Case, compact: dict[str, Any]):
        self.kb, self.program, self.case = kb, program, case
        self.nodes = compact["nodes"]
        self.view = _CaseView(case)
        self.cache: dict = {}
        self.syms: dict[int, clingo.Symbol] = {}

    def sym(self, i: int) -> clingo.Symbol:
        s = self.syms.get(i)
        if s is None:
            s = self.syms[i] = clingo.parse_term(self.nodes[i]["a"])
        return s

    def proof(self, goal: int) -> Proof:
        b = ProofBuilder(self.kb, self.program, self.view, self.cache)  # type: ignore[arg-type]
        root = self.prove(b, goal)
        atom = self.sym(goal)
        return Proof(kind="why", goal=b.display(atom), atom=b.full(atom), holds=True, case_id=self.case.case,
                     case_date=self.case.date.isoformat(), kb_version=self.kb.version, graph=b.graph, root=root,
                     case_source=self.case.source, depth=None)

    def prove(self, b: ProofBuilder, i: int) -> str:
        nd = self.nodes[i]
        atom = self.sym(i)
        if nd.get("case_fact"):
            return b.case_fact_node(atom)
        info = self.program.infos[nd["k"]]
        if "l" not in nd:
            return b.kb_fact_node(atom, info)
        subst = dict(zip(info.global_vars, nd["s"]))
        nid, new = b.node(("holds", atom), kind="derived", holds=True, **b.atom_attrs(atom),
                          rule=b.rule_attrs(info), substitution=dict(subst), level=nd["l"])
        if not new:
            return nid
        prem = iter(nd["p"])
        neg = iter(nd.get("n", ()))
        groups = iter(nd.get("g", ()))
        for li, cl in enumerate(info.compiled):
            lit_text = str(info.body[li])
            if cl.kind == "symbolic" and cl.positive:
                b.link(nid, self.prove(b, next(prem)), li, "body", lit_text)
            elif cl.kind == "symbolic":
                b.link(nid, self.absent(b, next(neg)), li, "body", lit_text)
            elif cl.kind == "comparison":
                value = substitute_text(cl.text, subst)  # type: ignore[arg-type]
                cid, _ = b.node(("cmp", value), kind="comparison", holds=True, value=value, atom=value)
                b.link(nid, cid, li, "body", lit_text)
            elif cl.kind == "aggregate":
                value = substitute_text(cl.text, subst)  # type: ignore[arg-type]
                aid, _ = b.node(("agg", nid, li), kind="aggregate", holds=True, value=value, atom=value)
                order = 0
                for npos, nneg in next(groups):
                    for _ in range(npos):
                        b.link(aid, self.prove(b, next(prem)), order, "element")
                        order += 1
                    for _ in range(nneg):
                        b.link(aid, self.absent(b, next(neg)), order, "element")
                        order += 1
                b.link(nid, aid, li, "body", lit_text)
            else:
                raise ExplainError(f"rule {info.rule.id if info.rule else info.index}: body literal {lit_text} "
                                   "is outside the fragment explanations support")
        return nid

    @staticmethod
    def absent(b: ProofBuilder, text: str) -> str:
        atom = clingo.parse_term(text)
        nid, _ = b.node(("absent", atom), kind="absent", holds=False, expanded=False, **b.atom_attrs(atom))
        return nid


def expand(compact: dict[str, Any], kb: KnowledgeBase, case: Case,
           program: RecordingProgram | None = None) -> list[Proof]:
    """The format-1 why-proofs of every determination in *compact*, in the order of ``determinations()``.

    *program*: reuse one :class:`RecordingProgram` (e.g. ``Explainer.program``) when expanding many rows.
    """
    if compact.get("proof_format") != COMPACT_FORMAT:
        raise ValueError(f"proof format {compact.get('proof_format')!r} is not {COMPACT_FORMAT!r}")
    if compact.get("kb_version") not in (None, kb.version):
        raise ValueError(f"the compact proof was made with KB {compact.get('kb_version')}, not {kb.version} "
                         "(fix: expand it with the knowledge base that made it)")
    ex = _Expander(kb, program or RecordingProgram(kb), case, compact)
    return [ex.proof(g) for g in compact["goals"]]
