"""Part 3 of the residual argument — the per-case filter: which static atoms and which residual rules one case gets.

**Per-case filter of the static atoms** (:meth:`ResidualProgram.static_atoms_for`).
Only static predicates that occur in a residual rule (or are shown) are added at
all. For such a predicate ``s`` and an argument position ``k``, a static atom may
be dropped when its value at ``k`` cannot be met by any ground instance whose
body can hold. That is provably so when, in *every* residual occurrence of ``s``
(positive, negative, or inside an aggregate element / conditional literal),
the term at ``k`` is

* a constant ``c`` — the occurrence can only match atoms with ``c`` at ``k``; or
* a variable that also occurs directly as argument ``i`` of a *positive*,
  case-dependent body literal ``q`` visible in the same scope (the rule body's
  top level, or the same aggregate element's / conditional literal's condition)
  — every instance whose body can hold gives it a value of a true ``q`` atom at
  ``i``, which lies in the *domain* ``dom(q, i)``.

A negative occurrence ``not s(X)`` is safe under the same condition:
for values outside the domain the positive case literal binding ``X`` is false,
so the instance is dead whatever ``s`` says. Any other term (anonymous
variable, arithmetic, a nested function term, a variable bound only by a static
literal or a comparison) means "keep every atom" for that position, and so does
``#show`` of a static predicate. Each static predicate is indexed on its most
selective filterable position (e.g. ``group_member_ear/4`` on the country,
bound through ``case_country/2`` to the case's countries; ``eccn/3`` on the ECCN).

**Per-case choice of the residual rules** (:meth:`ResidualProgram.select`). A
forward pass over the residual rules in dependency order (the residual must be
non-recursive; otherwise every rule is kept) over-approximates, per
case-dependent predicate and argument, the set of values its atoms can have
(or TOP), starting from the case's facts; static literals are matched against
the chosen static atoms themselves (constants and the variables' value sets so
far), and comparisons ``X op Y`` between variables and constants are checked on
the value sets (ordering only between numbers). Negation and aggregates are
ignored, so the approximation covers every atom of every answer set. A rule
that cannot fire under it has no instance whose positive body is true in any
answer set, so dropping it changes neither the answer sets nor their number
(the "exactly one answer set" check is unaffected). Typical cases keep 80–150
of ~264 residual rules.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

import clingo
import clingo.ast
from clingo.ast import ASTType

from ...case.facts import emit_facts
from .domains import TOP, binder
from .split import Analysed, Sig, term_of

if TYPE_CHECKING:  # pragma: no cover
    from ...case.model import Case


@dataclass(frozen=True)
class Filter:
    """How to select the atoms of one static predicate for a case."""

    position: int  # the argument the atoms are selected on
    always: tuple  # (Symbol, native atom) of atoms whose value is a KB constant or a static value
    by_value: dict  # other values (native) -> tuple of (Symbol, native atom)
    inputs: tuple[tuple[Sig, int], ...]  # case input (predicate, position) whose values select atoms


# Values are compared as Python "natives" (cheap to hash, unlike clingo.Symbol objects):
# a Number is its int, a String ("s", its text), anything else ("f", clingo's text of it).
# Equal symbols have equal natives; ordering is used only between ints.
def native(sym: clingo.Symbol):
    """A symbol as a native (see above)."""
    t = sym.type
    if t == clingo.SymbolType.Number:
        return sym.number
    if t == clingo.SymbolType.String:
        return ("s", sym.string)
    return ("f", str(sym))


def native_atom(sym: clingo.Symbol) -> tuple[Sig, tuple]:
    """An atom as (predicate, native arguments)."""
    args = sym.arguments
    return (sym.name, len(args)), tuple(native(a) for a in args)


def case_natives(case: "Case", key: str) -> list[tuple[Sig, tuple]]:
    """The case's input facts (the list of :func:`exportkb.case.facts.emit_facts`) as natives, without clingo."""
    out: list[tuple[Sig, tuple]] = []

    def adder(c):
        def add(name: str, *args) -> None:
            out.append(((name, len(args) + 1), (c, *args)))
        return add

    emit_facts(case, key, _nat_string, int, _nat_constant, adder)
    return out


def _nat_string(text: str) -> tuple:
    return ("s", text)


def _nat_constant(name: str) -> tuple:
    return ("f", name)


_OPS = {
    clingo.ast.ComparisonOperator.GreaterThan: operator.gt, clingo.ast.ComparisonOperator.LessThan: operator.lt,
    clingo.ast.ComparisonOperator.LessEqual: operator.le, clingo.ast.ComparisonOperator.GreaterEqual: operator.ge,
    clingo.ast.ComparisonOperator.NotEqual: operator.ne, clingo.ast.ComparisonOperator.Equal: operator.eq,
}


def _fire(vals: dict, rows: dict, lits: tuple, static_lits: tuple, cmps: tuple) -> dict | None:
    """Can a rule fire on these value sets? The variables' value sets if so.

    Case-dependent literals are checked on per-position value sets; static literals
    then on their atoms (constants and the variables' sets so far: a semi-join);
    comparisons on the value sets.
    """
    env: dict = {}
    for pred, consts, variables in lits:
        per = vals.get(pred)
        if per is None:
            return None
        for i, c in consts:
            if per[i] is not TOP and c not in per[i]:
                return None
        for i, name in variables:
            cur = per[i]
            if cur is TOP:
                continue
            old = env.get(name)
            if old is None:
                env[name] = cur
            else:
                both = old & cur
                if not both:
                    return None
                env[name] = both
    for pred, consts, variables in static_lits:
        known = [(i, name, env.get(name)) for i, name in variables]
        new: dict = {name: set() for _, name in variables}
        found = False
        for args in rows.get(pred, ()):
            if any(args[i] != c for i, c in consts) or any(v is not None and args[i] not in v for i, _, v in known):
                continue
            found = True
            for i, name, _ in known:
                new[name].add(args[i])
        if not found:
            return None
        env.update(new)  # each new set lies within the old one: an intersection
    for left, op, right, ordering in cmps:
        ls = (left[1],) if left[0] == "c" else env.get(left[1])
        rs = (right[1],) if right[0] == "c" else env.get(right[1])
        if ls is None or rs is None:
            continue
        if ordering:  # < <= > >=: decided only between numbers; anything else may hold
            if not any(type(x) is not int or type(y) is not int or op(x, y) for x in ls for y in rs):
                return None
        elif not any(op(x, y) for x in ls for y in rs):
            return None
    return env


def _nat_term(t: tuple) -> tuple:
    return ("c", native(t[1])) if t[0] == "c" else t


def _comparisons(stmt: clingo.ast.AST) -> tuple:
    """Positive top-level comparisons ``X op Y`` between variables and constants."""
    out = []
    for lit in stmt.body:
        if (lit.ast_type != ASTType.Literal or lit.sign != clingo.ast.Sign.NoSign
                or lit.atom.ast_type != ASTType.Comparison or len(lit.atom.guards) != 1):
            continue
        guard = lit.atom.guards[0]
        left, right = _nat_term(term_of(lit.atom.term)), _nat_term(term_of(guard.term))
        if left[0] != "other" and right[0] != "other" and guard.comparison in _OPS:
            op = _OPS[guard.comparison]
            out.append((left, op, right, op not in (operator.eq, operator.ne)))
    return tuple(out)


def compile_rules(residual: list[Analysed], dep: set[Sig]) -> tuple[tuple, bool]:
    """Residual rules as (position, binder literals, comparisons, head, head terms), in dependency order."""
    heads = {r.head for r in residual if r.head is not None}
    uses = {h: set() for h in heads}
    for r in residual:
        if r.head is not None:
            uses[r.head] |= {o.pred for o in r.body if o.pred in heads}
    order: dict[Sig, int] = {}
    acyclic = True
    state: dict[Sig, int] = {}

    def visit(p: Sig) -> None:  # depth-first topological order (the KB is small)
        nonlocal acyclic
        if state.get(p) == 2:
            return
        if state.get(p) == 1:
            acyclic = False
            return
        state[p] = 1
        for q in sorted(uses[p]):
            visit(q)
        state[p] = 2
        order[p] = len(order)

    for h in sorted(heads):
        visit(h)
    compiled = []
    for n, r in enumerate(residual):
        lits = [(o.pred, tuple((i, native(a[1])) for i, a in enumerate(o.args) if a[0] == "c"),
                 tuple((i, a[1]) for i, a in enumerate(o.args) if a[0] == "var"))
                for o in r.body if o.binder and o.scope == 0]
        spec = tuple(_nat_term(a) for a in r.head_args)
        compiled.append((order.get(r.head, len(order)), n, tuple(x for x in lits if x[0] in dep),
                         tuple(x for x in lits if x[0] not in dep), _comparisons(r.stmt), r.head, spec))
    compiled.sort(key=lambda c: (c[0], c[1]))
    return tuple(c[1:] for c in compiled), acyclic


def build_filters(residual: list[Analysed], dep: set[Sig], domains: dict, model: Sequence[clingo.Symbol],
                  directives: Sequence[clingo.ast.AST]) -> tuple[list, dict[Sig, Filter], dict[Sig, tuple[int, ...]]]:
    """The per-case filter of the static atoms, decided once per KB: (atoms every case gets,
    a :class:`Filter` per filtered static predicate, the case input positions they read)."""
    by_sig: dict[Sig, list[clingo.Symbol]] = {}
    for sym in model:
        by_sig.setdefault((sym.name, len(sym.arguments)), []).append(sym)

    # Per static predicate and position: the union of the sources of every residual occurrence, or TOP.
    positions: dict[Sig, list] = {}
    for r in residual:
        for o in r.body:
            if o.pred in dep:
                continue
            per = positions.setdefault(o.pred, [frozenset()] * o.pred[1])
            for k, a in enumerate(o.args):
                if per[k] is TOP:
                    continue
                if a[0] == "c":
                    per[k] = per[k] | {a}
                    continue
                b = binder(r.body, a[1], o.scope, dep, domains) if a[0] == "var" else None
                d = domains.get(b, TOP) if b is not None else TOP
                per[k] = TOP if d is TOP else per[k] | d
    for d in directives:
        if d.ast_type == ASTType.ShowSignature and (d.name, d.arity) not in dep:
            positions[(d.name, d.arity)] = [TOP] * d.arity

    natives = {sym: native_atom(sym) for sig in positions for sym in by_sig.get(sig, ())}

    def static_values(s: Sig, i: int) -> set:
        return {(natives.get(a) or native_atom(a))[1][i] for a in by_sig.get(s, ())}

    unfiltered: list = []
    filters: dict[Sig, Filter] = {}
    wanted: dict[Sig, set[int]] = {}
    for sig, per in sorted(positions.items()):
        atoms = [(a, natives[a]) for a in by_sig.get(sig, [])]
        if not atoms:
            continue
        usable = [k for k, p in enumerate(per) if p is not TOP]
        if not usable:
            unfiltered.extend(atoms)
            continue
        k = max(usable, key=lambda k: (len({n[1][k] for _, n in atoms}), -k))
        base_values: set = set()
        inputs: list[tuple[Sig, int]] = []
        for src in per[k]:
            if src[0] == "c":
                base_values.add(native(src[1]))
            elif src[0] == "s":
                base_values |= static_values(src[1], src[2])
            elif src[0] == "in":
                inputs.append((src[1], src[2]))
                wanted.setdefault(src[1], set()).add(src[2])
        always = tuple(a for a in atoms if a[1][1][k] in base_values)
        by_value: dict = {}
        for a in atoms:
            if a[1][1][k] not in base_values:
                by_value.setdefault(a[1][1][k], []).append(a)
        filters[sig] = Filter(k, always, {v: tuple(x) for v, x in by_value.items()}, tuple(sorted(inputs)))
    return unfiltered, filters, {s: tuple(sorted(p)) for s, p in wanted.items()}


def static_atoms_of(unfiltered: Sequence, filters: dict[Sig, Filter], wanted: dict[Sig, tuple[int, ...]],
                    natives: Sequence[tuple[Sig, tuple]]) -> list:
    """For one case (its input facts as natives): the (Symbol, native atom) pairs of the static atoms it gets."""
    values: dict[tuple[Sig, int], set] = {}
    for sig, args in natives:
        for pos in wanted.get(sig, ()):
            values.setdefault((sig, pos), set()).add(args[pos])
    out = list(unfiltered)
    for f in filters.values():
        out.extend(f.always)
        seen: set = set()
        for key in f.inputs:
            for v in values.get(key, ()):
                if v not in seen:
                    seen.add(v)
                    out.extend(f.by_value.get(v, ()))
    return out


def rules_that_can_fire(compiled: tuple, acyclic: bool, dep: frozenset[Sig], n_rules: int,
                        natives: Iterable[tuple[Sig, tuple]]) -> list[int]:
    """Positions of the residual rules that can fire given these facts (case facts + chosen static atoms):
    a forward over-approximation of the atoms, per predicate and position (see the module docstring)."""
    if not acyclic:
        return list(range(n_rules))
    vals: dict[Sig, list] = {}  # case-dependent predicate -> per position: set of values or TOP
    rows: dict[Sig, list] = {}  # static predicate -> its given atoms' arguments (known exactly)
    for sig, args in natives:
        if sig not in dep:
            rows.setdefault(sig, []).append(args)
            continue
        per = vals.get(sig)
        if per is None:
            per = vals[sig] = [set() for _ in args]
        for i, a in enumerate(args):
            per[i].add(a)
    kept: list[int] = []
    for n, lits, static_lits, cmps, head, head_spec in compiled:  # dependency order: one pass
        env = _fire(vals, rows, lits, static_lits, cmps)
        if env is None:
            continue
        kept.append(n)
        if head is None:
            continue
        per = vals.get(head)
        if per is None:
            per = vals[head] = [set() for _ in head_spec]
        for j, spec in enumerate(head_spec):
            cur = per[j]
            if cur is TOP:
                continue
            if spec[0] == "c":
                cur.add(spec[1])
            elif spec[0] == "var" and spec[1] in env:
                cur |= env[spec[1]]
            else:
                per[j] = TOP
    kept.sort()
    return kept
