"""The Proof: a networkx DiGraph of justification steps, with a stable JSON form.

A node is one statement about the case (an atom that holds or does not hold,
a comparison, an aggregate, a rule that did not fire); an edge goes from a
conclusion to what supports it, in body order (edge attribute ``order``).
A sub-proof used twice is one node, so the graph is a DAG; renderers draw it as
a tree for people. The JSON form (``"format": 1``) is documented by
``proof.schema.json`` next to this module and in docs/explanations.md.

Node kinds
    derived      atom holds, concluded by a KB rule instance (``rule``, ``substitution``)
    case_fact    atom holds, stated by the case file (``field``: path, file, line)
    kb_fact      atom holds, a fact of kb/ (``rule``)
    absent       atom does not hold; in a why-proof it justifies ``not atom``
    not_derived  atom (or pattern, ``pattern: true``) does not hold; children: ``attempt`` nodes
    attempt      a KB rule that could have concluded the parent but did not; children: failed conditions
    negation_fails  ``not atom`` fails because atom holds; child: the why-proof of atom
    comparison   a ground comparison (``value``), ``holds`` true or false
    aggregate    a ground aggregate condition (``value``), ``holds`` true or false
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import networkx as nx

from .render import render

PROOF_FORMAT = 1
SCHEMA_PATH = Path(__file__).with_name("proof.schema.json")
NODE_KINDS = ("derived", "case_fact", "kb_fact", "absent", "not_derived", "attempt", "negation_fails",
              "comparison", "aggregate")
FACT_KINDS = ("case_fact", "kb_fact")


@dataclass
class Proof:
    """Why (or why not) *goal* for one case. Build with :func:`exportkb.explain.explain`.

    ``graph`` nodes carry the attributes listed in the module docstring; ``root``
    is the goal's node. Consumers (counterfactuals, HTML) should use the methods
    below rather than the graph's internals where they can.
    """

    kind: str                   # "why" | "why_not"
    goal: str                   # the goal as the user reads it, without the case id: license_required(gpus)
    atom: str                   # the goal atom as clingo text, with the case id
    holds: bool
    case_id: str
    case_date: str              # ISO date
    kb_version: str
    graph: nx.DiGraph
    root: str
    case_source: str = ""
    depth: int | None = None    # why-not recursion bound used (None: unbounded / why)
    meta: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ reading
    def node(self, nid: str) -> dict[str, Any]:
        return self.graph.nodes[nid]

    def children(self, nid: str) -> list[str]:
        """Supporting nodes of *nid*, in the order of the rule body."""
        out = sorted(self.graph.out_edges(nid, data=True), key=lambda e: (e[2].get("order", 0), e[1]))
        return [v for _, v, _ in out]

    def edge(self, u: str, v: str) -> dict[str, Any]:
        return self.graph.edges[u, v]

    def walk(self) -> Iterator[str]:
        """Every node once, depth-first from the root in body order."""
        seen: set[str] = set()
        stack = [self.root]
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            yield n
            stack.extend(reversed(self.children(n)))

    def leaves(self) -> list[str]:
        return [n for n in self.walk() if self.graph.out_degree(n) == 0]

    def case_fields(self) -> list[str]:
        """Case-file field paths this proof rests on (for counterfactuals: what could be changed)."""
        out: dict[str, None] = {}
        for n in self.walk():
            f = self.node(n).get("field")
            if f and f.get("path"):
                out.setdefault(f["path"], None)
        return list(out)

    def rules_used(self) -> list[str]:
        out: dict[str, None] = {}
        for n in self.walk():
            r = self.node(n).get("rule")
            if r:
                out.setdefault(r["id"], None)
        return list(out)

    # --------------------------------------------------------------------- JSON
    def to_json(self) -> dict[str, Any]:
        order = list(self.walk())
        nodes = [{"id": n, **self.node(n)} for n in order]
        edges = []
        for n in order:
            for c in self.children(n):
                e = self.edge(n, c)
                edges.append({"from": n, "to": c, **e})
        return {
            "format": PROOF_FORMAT, "kind": self.kind, "goal": self.goal, "atom": self.atom, "holds": self.holds,
            "case": self.case_id, "case_date": self.case_date, "case_source": self.case_source,
            "kb_version": self.kb_version, "depth": self.depth, "root": self.root,
            "nodes": nodes, "edges": edges,
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False, sort_keys=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Proof":
        if data.get("format") != PROOF_FORMAT:
            raise ValueError(f"proof format {data.get('format')!r} is not {PROOF_FORMAT}")
        g = nx.DiGraph()
        for nd in data["nodes"]:
            attrs = dict(nd)
            g.add_node(attrs.pop("id"), **attrs)
        for e in data["edges"]:
            attrs = dict(e)
            g.add_edge(attrs.pop("from"), attrs.pop("to"), **attrs)
        return cls(kind=data["kind"], goal=data["goal"], atom=data["atom"], holds=data["holds"],
                   case_id=data["case"], case_date=data["case_date"], kb_version=data["kb_version"],
                   graph=g, root=data["root"], case_source=data.get("case_source", ""), depth=data.get("depth"))

    def render(self, fmt: str = "text", depth: int | None = None) -> str:
        return render(self, fmt, depth)


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
