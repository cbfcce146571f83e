"""Part 2 of the residual argument — the domain analysis: which values a case-dependent atom can carry at each position.

``dom(q, i)`` over-approximates the values a true ``q`` atom can have at ``i``,
computed once per KB as a set of sources, to a fixpoint over the residual rules:
an ``%input`` position (its values are read from the case's facts, per case), a
constant in a rule head, a static predicate's position (all its values in the
static model), or *anything* (an arithmetic term, an aggregate result, a
variable not bound by a positive literal) — which forbids filtering at that
position.

A domain source is ("in", pred, pos) — a case input position; ("c", symbol) — a
constant; ("s", pred, pos) — a static predicate's position; ("d", pred, pos) — a
reference to the domain of a case-dependent predicate (resolved away by the
fixpoint); :data:`TOP` means anything. The per-case filter
(:mod:`exportkb.solve.residual.filter`) relies on these domains to drop static
atoms; the case-key specialisation below relies on them too.

**Case key.** ``Solver.determine`` solves one case with key ``"#0"``. Where
``dom(q, 0)`` is only ever the case-id argument of input facts, and a rule has
the same variable at argument 1 of all its case-dependent atoms, bound by a
positive one, that variable can only be ``"#0"``: the rule is grounded with the
constant written in (``_keyed``; ~15% less grounding). ``ResidualProgram.rules``
keeps the KB's original ASTs.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Sequence

import clingo
import clingo.ast
from clingo.ast import ASTType

from .split import Analysed, Occurrence, Sig

if TYPE_CHECKING:  # pragma: no cover
    from ...kb.knowledge import KnowledgeBase


TOP = ("top",)


KEY = "#0"  # the case key of a single-case solve (as in Solver.determine's chunk of one)


def binder(occurrences: Sequence[Occurrence], name: str, scope: int, dep: set[Sig],
            domains: dict | None = None) -> tuple[Sig, int] | None:
    """A positive case-dependent literal visible in *scope* with variable *name* as an argument.

    With *domains*, the one with the smallest (non-TOP) domain; else the first.
    """
    best: tuple[Sig, int] | None = None
    best_size = None
    for o in occurrences:
        if not o.binder or o.pred not in dep or o.scope not in (0, scope):
            continue
        for i, a in enumerate(o.args):
            if a == ("var", name):
                if domains is None:
                    return (o.pred, i)
                d = domains.get((o.pred, i), TOP)
                size = float("inf") if d is TOP else len(d)
                if best is None or size < best_size:
                    best, best_size = (o.pred, i), size
    return best


def _static_binder(occurrences: Sequence[Occurrence], name: str, dep: set[Sig]) -> tuple[Sig, int] | None:
    for o in occurrences:
        if o.binder and o.scope == 0 and o.pred not in dep:
            for i, a in enumerate(o.args):
                if a == ("var", name):
                    return (o.pred, i)
    return None


def domains_of(kb: "KnowledgeBase", residual: list[Analysed], dep: set[Sig]) -> dict:
    """dom(q, i) for every case-dependent position: a frozenset of base sources, or TOP."""
    raw: dict[tuple[Sig, int], set] = {}
    for sig in kb.inputs:
        name, arity = sig.rsplit("/", 1)
        for pos in range(int(arity)):
            raw.setdefault(((name, int(arity)), pos), set()).add(("in", (name, int(arity)), pos))
    for r in residual:
        if r.head is None:
            continue
        for j, a in enumerate(r.head_args):
            sources = raw.setdefault((r.head, j), set())
            if a[0] == "c":
                sources.add(a)
            elif a[0] == "var":
                b = binder(r.body, a[1], 0, dep)
                if b is not None:
                    sources.add(("d", b[0], b[1]))
                else:
                    s = _static_binder(r.body, a[1], dep)
                    sources.add(("s", s[0], s[1]) if s is not None else TOP)
            else:
                sources.add(TOP)
    resolved: dict = {k: frozenset() for k in raw}
    changed = True
    while changed:
        changed = False
        for key, sources in raw.items():
            if resolved[key] is TOP:
                continue
            new: set = set()
            top = False
            for s in sources:
                if s is TOP or s == TOP:
                    top = True
                    break
                if s[0] == "d":
                    d = resolved.get((s[1], s[2]), frozenset())
                    if d is TOP:
                        top = True
                        break
                    new |= d
                else:
                    new.add(s)
            value = TOP if top else frozenset(new)
            if value != resolved[key]:
                resolved[key] = value
                changed = True
    return resolved


def keyed_rules(residual: list[Analysed], dep: set[Sig], domains: dict, key: str) -> tuple:
    """Each residual rule with its case variable replaced by *key* (None where that is not provably safe).

    In a control whose only case is *key*, argument 1 of every case-dependent atom is
    *key* when the domain analysis says that argument only ever carries the case id of
    an input fact. A rule whose every case-dependent atom has the same variable V there,
    bound by a positive case-dependent literal of the body, fires only with V = *key*:
    writing *key* for V keeps every instance that can fire and saves the grounder a
    join variable (~15% of grounding).
    """
    for (sig, pos), d in domains.items():
        if pos == 0 and (d is TOP or any(src[0] != "in" or src[2] != 0 for src in d)):
            return tuple(None for _ in residual)
    literal = str(clingo.String(key))
    out: list = []
    texts: list[str] = []
    for r in residual:
        occ = [o for o in r.body if o.pred in dep]
        firsts = {o.args[0] if o.args else ("other",) for o in occ}
        if r.head is not None:
            firsts.add(r.head_args[0] if r.head_args else ("other",))
        bound = any(o.binder and o.scope == 0 and o.args and o.args[0] in firsts for o in occ)
        if len(firsts) == 1 and next(iter(firsts))[0] == "var" and bound:
            # The variable's occurrences in the rule's text, outside strings (a variable
            # starts with an upper-case letter or "_", so no constant or keyword matches).
            name = re.escape(next(iter(firsts))[1])
            pattern = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![A-Za-z0-9_\'])' + name + r"(?![A-Za-z0-9_\'])")
            texts.append(pattern.sub(lambda m: m.group(0) if m.group(0)[0] == '"' else literal, str(r.stmt)))
            out.append(len(texts) - 1)
        else:
            out.append(None)
    parsed: list[clingo.ast.AST] = []
    clingo.ast.parse_string("\n".join(texts), parsed.append)  # one parse: ~100x cheaper than an AST transformer
    parsed = [p for p in parsed if p.ast_type != ASTType.Program]
    if len(parsed) != len(texts):
        return tuple(None for _ in residual)
    out = [None if i is None else parsed[i] for i in out]
    return tuple(out)
