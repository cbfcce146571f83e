"""Why an atom holds: one canonical proof tree from the recorded firings.

The canonical derivation is the shortest well-founded one: facts (case and KB)
have level 0; a rule instance has level 1 + the highest level of the atoms in
its positive body (and of the atoms its aggregates counted); an atom's level is
that of its lowest-level instance. Levels are computed bottom-up from the
recorded firings (a fixpoint, like Dijkstra with unit weights on a hypergraph),
so the choice is well-founded by construction. Ties go to the rule written first
in kb/, then the smaller substitution (text order) — deterministic, never an
enumeration of all proofs.

Negative body literals (``not p``) become ``absent`` nodes: justified by p
not being in the (unique) answer set; with ``negation_depth`` > 0 they carry
the why-not tree of p, otherwise ``expanded: false``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import clingo
import clingo.ast as A

from .build import ProofBuilder
from .goals import ExplainError
from .record import Firing, RecordedModel, RecordingProgram
from .terms import evaluate, instantiate, substitute_text

if TYPE_CHECKING:
    from ..budget import Deadline

T = A.ASTType
INF = float("inf")


@dataclass(frozen=True)
class GroundBody:
    """A firing's body, instantiated: per literal (kind, sign, ground value)."""

    literals: tuple[tuple[str, int, object], ...]  # kind in symbolic|comparison|aggregate|other
    positive_deps: tuple[clingo.Symbol, ...]


class Derivations:
    """Levels and canonical firings for one recorded model (computed once, on first use)."""

    def __init__(self, program: RecordingProgram, model: RecordedModel, deadline: "Deadline | None" = None):
        self.program = program
        self.model = model
        self.deadline = deadline  # checked in the fixpoint loops: a large case must not run unbounded
        self._bodies: dict[Firing, GroundBody] = {}
        self._deps: dict[Firing, tuple[clingo.Symbol, ...]] = {}
        self.level: dict[clingo.Symbol, float] = {}
        self.best: dict[clingo.Symbol, Firing] = {}
        self._compute()

    def body(self, f: Firing) -> GroundBody:
        b = self._bodies.get(f)
        if b is None:
            b = self._bodies[f] = self._ground_body(f)
        return b

    def deps(self, f: Firing) -> tuple[clingo.Symbol, ...]:
        """The atoms a firing's positive body (and its aggregates) rest on — all levels need."""
        d = self._deps.get(f)
        if d is None:
            out = list(f.positives)
            if f.index in self.program.aggregate_rules:
                info = self.program.infos[f.index]
                for a, cl in enumerate(info.compiled):
                    if cl.kind == "aggregate":
                        for _, pos, _neg in self.aggregate_elements(f, a):
                            out.extend(pos)
            d = self._deps[f] = tuple(out)
        return d

    def _ground_body(self, f: Firing) -> GroundBody:
        info = self.program.infos[f.index]
        subst = f.mapping
        lits, deps = [], []
        for a, cl in enumerate(info.compiled):
            sign = 0 if cl.positive else 1
            if cl.kind == "symbolic":
                sym = instantiate(cl.term, subst)
                lits.append(("symbolic", sign, sym))
                if cl.positive:
                    deps.append(sym)
            elif cl.kind == "aggregate":
                elems = self.aggregate_elements(f, a)
                lits.append(("aggregate", sign, (substitute_text(cl.text, subst), elems)))
                for _, pos, _neg in elems:
                    deps.extend(pos)
            else:
                lits.append((cl.kind, sign, substitute_text(cl.text, subst)))
        return GroundBody(tuple(lits), tuple(deps))

    def aggregate_elements(self, f: Firing, a: int) -> list[tuple[str, list[clingo.Symbol], list[clingo.Symbol]]]:
        """The element instances aggregate *a* of firing *f* counted: (terms, positive atoms, negated atoms)."""
        info = self.program.infos[f.index]
        names = self.program.aggel_globals.get((f.index, a), ())
        subst = f.mapping
        gl = clingo.Function("", [subst[n] for n in names])
        lit = info.body[a]
        out = []
        for terms, locals_ in sorted(self.model.agg_elements.get((f.index, a, gl), []), key=str):
            local_names = [v for v in element_locals(lit, info.global_vars)]
            s = dict(subst)
            s.update(zip(local_names, locals_.arguments))
            pos, neg = [], []
            for el in lit.atom.elements:
                if tuple(str(evaluate(t, s)) for t in el.terms) != tuple(str(x) for x in terms.arguments):
                    continue
                for c in el.condition:
                    if c.ast_type == T.Literal and c.atom.ast_type == T.SymbolicAtom:
                        (pos if c.sign == A.Sign.NoSign else neg).append(evaluate(c.atom.symbol, s))
                break
            out.append((str(terms), pos, neg))
        return out

    def _compute(self) -> None:
        """Levels by relaxation to a fixpoint, then per atom the first lowest-level firing.

        Firings of an atom are already sorted (rule order, then substitution text)
        by the recorder, so "first" is the deterministic tie-break.
        """
        m = self.model
        level = self.level
        for a in m.inputs:
            level[a] = 0
        for a in m.kb_facts:
            level.setdefault(a, 0)
        check = self.deadline.check if self.deadline is not None else None
        pending = []
        for h, fs in m.firings.items():
            if check is not None:
                check()
            if h not in level:
                pending.extend((h, f, self.deps(f)) for f in fs)
        changed = True
        while changed:
            changed = False
            if check is not None:
                check()
            for h, f, deps in pending:
                worst = 0.0
                for d in deps:
                    lv = level.get(d, INF)
                    if lv > worst:
                        worst = lv
                        if worst == INF:
                            break
                if worst == INF:
                    continue
                if worst + 1 < level.get(h, INF):
                    level[h] = worst + 1
                    changed = True
        for h, f, deps in pending:
            if h in self.best:
                continue
            if 1 + max((level.get(d, INF) for d in deps), default=0) == level.get(h):
                self.best[h] = f


def element_locals(lit: A.AST, global_vars: tuple[str, ...]) -> list[str]:
    """The local variables of an aggregate's elements, in the order recorded values are zipped with them
    (shared with the compact proofs, which must zip them the same way)."""
    from .terms import variables
    out: dict[str, None] = {}
    for el in lit.atom.elements:
        for v in variables(el):
            if v not in global_vars:
                out.setdefault(v, None)
    return list(out)


class WhyBuilder:
    """Adds why-proof nodes to a ProofBuilder graph."""

    def __init__(self, builder: ProofBuilder, derivations: Derivations,
                 why_not: Callable[[clingo.Symbol], str] | None = None, deadline: "Deadline | None" = None):
        self.b = builder
        self.d = derivations
        self.why_not = why_not  # expands `not p` into p's why-not tree when given
        self.deadline = deadline  # checked once per step: proofs of a large case grow quadratically

    def prove(self, atom: clingo.Symbol) -> str:
        b, m = self.b, self.b.model
        if self.deadline is not None:
            self.deadline.check()
        if atom in m.inputs:
            return b.case_fact_node(atom)
        if atom in m.kb_facts:
            return b.kb_fact_node(atom, b.program.infos[m.kb_facts[atom]])
        f = self.d.best.get(atom)
        if f is None:
            raise LookupError(f"{atom} is not in the answer set")
        info = b.program.infos[f.index]
        nid, new = b.node(("holds", atom), kind="derived", holds=True, **b.atom_attrs(atom),
                          rule=b.rule_attrs(info), substitution=b.subst_attrs(f.mapping), level=int(self.d.level[atom]))
        if not new:
            return nid
        body = self.d.body(f)
        for i, (kind, sign, value) in enumerate(body.literals):
            lit_text = str(info.body[i])
            if kind == "symbolic" and sign == 0:
                b.link(nid, self.prove(value), i, "body", lit_text)
            elif kind == "symbolic":
                b.link(nid, self.absent(value), i, "body", lit_text)
            elif kind == "comparison":
                cid, _ = b.node(("cmp", value), kind="comparison", holds=True, value=_readable(b, value),
                                atom=_full_text(b, value))
                b.link(nid, cid, i, "body", lit_text)
            elif kind == "aggregate":
                text, elems = value
                aid, anew = b.node(("agg", nid, i), kind="aggregate", holds=True, value=_readable(b, text),
                                   atom=_full_text(b, text))
                if anew:
                    order = 0
                    for _terms, pos, neg in elems:
                        for p in pos:
                            b.link(aid, self.prove(p), order, "element")
                            order += 1
                        for q in neg:
                            b.link(aid, self.absent(q), order, "element")
                            order += 1
                b.link(nid, aid, i, "body", lit_text)
            else:
                raise ExplainError(f"rule {info.rule.id if info.rule else info.index}: body literal {lit_text} "
                                 "is outside the fragment explanations support")
        return nid

    def absent(self, atom: clingo.Symbol) -> str:
        b = self.b
        if self.why_not is not None:
            return self.why_not(atom)
        nid, _ = b.node(("absent", atom), kind="absent", holds=False, expanded=False, **b.atom_attrs(atom))
        return nid


def _full_text(b: ProofBuilder, text: str) -> str:
    return text.replace(f'"{b.model.key}"', str(clingo.String(b.case.case)))


def _readable(b: ProofBuilder, text: str) -> str:
    return _full_text(b, text)
