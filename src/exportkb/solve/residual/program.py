"""One case fast: the KB split into a static part, grounded once, and a residual grounded per case.

Why: a warm :meth:`Solver.determine` used to add the whole parsed KB to a fresh
``clingo.Control`` and ground it — ~2,700 statements, most of them facts about
countries, dated group membership and parameters that are the same for every
case. Grounding that case-independent part once per :class:`KnowledgeBase`,
handing each case only the static atoms it can use and only the residual rules
that can fire for it cuts a determination from ~21 ms to ~9 ms of CPU (see
docs/batch.md, "Single-case latency"). What remains is mostly clingo's fixed cost
per ground call (~40 µs per rule, whatever the number of atoms — re-grounding a
program part in a multi-shot control costs the same), so the number of rules
grounded is what counts. (The chunked batch path does not need this: there the
static part is grounded once per chunk of hundreds of cases.)

**Split** (partial evaluation, by predicate ``name/arity``):

* *case-dependent* predicates: the ``%input`` predicates of ``kb/inputs.lp``
  (:attr:`KnowledgeBase.inputs`) and, to a fixpoint, the head predicate of every
  rule whose body mentions a case-dependent predicate anywhere — positively,
  under ``not``/``not not``, inside an aggregate element or a condition;
* *static*: every other predicate. All rules of a static predicate have static
  bodies, so the static part is a program on its own (the bottom of a splitting
  set): it is grounded and solved once, and must have exactly one answer set
  (otherwise the split is not used and the full program reports the problem).
  Its answer set is kept as clingo Symbols (:attr:`ResidualProgram.static_atoms`).
* *residual*: the rules whose head predicate is case-dependent, the constraints
  whose body mentions a case-dependent predicate, and the ``#show``/``#defined``
  directives, as the already-parsed AST. By the splitting theorem, the answer
  sets of ``residual ∪ static model ∪ case facts`` are exactly those of the full
  program with the case facts.

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

``dom(q, i)`` over-approximates the values a true ``q`` atom can have at ``i``,
computed once per KB as a set of sources, to a fixpoint over the residual rules:
an ``%input`` position (its values are read from the case's facts, per case), a
constant in a rule head, a static predicate's position (all its values in the
static model), or *anything* (an arithmetic term, an aggregate result, a
variable not bound by a positive literal) — which forbids filtering at that
position. A negative occurrence ``not s(X)`` is safe under the same condition:
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

**Case key.** ``Solver.determine`` solves one case with key ``"#0"``. Where
``dom(q, 0)`` is only ever the case-id argument of input facts, and a rule has
the same variable at argument 1 of all its case-dependent atoms, bound by a
positive one, that variable can only be ``"#0"``: the rule is grounded with the
constant written in (``_keyed``; ~15% less grounding). ``ResidualProgram.rules``
keeps the KB's original ASTs.

Anything the analysis does not know (choice or disjunctive heads, classical
negation, ``#external``, ``#const``, ``#script``, theory atoms, program parts
other than ``base``, a static part without exactly one answer set) makes
:func:`residual_program` return None, and callers fall back to the full program.
"""
from __future__ import annotations

import operator
import re
import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Sequence

import clingo
import clingo.ast
from clingo.ast import ASTType

from . import fastclingo
from .facts import case_facts, emit_facts
from .solver import _parse_flat, _py, _split_atoms

if TYPE_CHECKING:  # pragma: no cover
    from .kb import KnowledgeBase
    from .model import Case
    from .solver import Solver

# A domain source: ("in", pred, pos) a case input position; ("c", symbol) a constant;
# ("s", pred, pos) a static predicate's position; ("d", pred, pos) a reference to the
# domain of a case-dependent predicate (resolved away by the fixpoint). TOP = anything.
TOP = ("top",)
KEY = "#0"  # the case key of a single-case solve (as in Solver.determine's chunk of one)
_DIRECTIVES = (ASTType.ShowSignature, ASTType.Defined)


class Unsupported(Exception):
    """A construct the split does not analyse: use the full program."""


Sig = tuple[str, int]  # (name, arity) of a predicate


@dataclass(frozen=True)
class _Occurrence:
    """One atom in a rule body (at any depth)."""

    pred: Sig
    args: tuple  # per position: ("var", name) | ("c", Symbol) | ("other",)
    binder: bool  # positive and in a binding place (body top level or a condition)
    scope: int  # 0 = the body's top level; n > 0 = one aggregate element / conditional literal


@dataclass(frozen=True)
class _Analysed:
    index: int  # position in KnowledgeBase.statements
    stmt: clingo.ast.AST
    head: Sig | None  # None for a constraint
    head_args: tuple
    body: tuple[_Occurrence, ...]


@dataclass(frozen=True)
class _Filter:
    """How to select the atoms of one static predicate for a case."""

    position: int  # the argument the atoms are selected on
    always: tuple  # (Symbol, native atom) of atoms whose value is a KB constant or a static value
    by_value: dict  # other values (native) -> tuple of (Symbol, native atom)
    inputs: tuple[tuple[Sig, int], ...]  # case input (predicate, position) whose values select atoms


# Values are compared as Python "natives" (cheap to hash, unlike clingo.Symbol objects):
# a Number is its int, a String ("s", its text), anything else ("f", clingo's text of it).
# Equal symbols have equal natives; ordering is used only between ints.
def _native(sym: clingo.Symbol):
    t = sym.type
    if t == clingo.SymbolType.Number:
        return sym.number
    if t == clingo.SymbolType.String:
        return ("s", sym.string)
    return ("f", str(sym))


def _native_atom(sym: clingo.Symbol) -> tuple[Sig, tuple]:
    args = sym.arguments
    return (sym.name, len(args)), tuple(_native(a) for a in args)


def case_natives(case: "Case", key: str) -> list[tuple[Sig, tuple]]:
    """The case's input facts (the list of :func:`exportkb.facts.emit_facts`) as natives, without clingo."""
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


@dataclass
class ResidualProgram:
    """The case-dependent part of a KB and its static model (see the module docstring)."""

    case_dependent: frozenset[Sig]
    statements: tuple[clingo.ast.AST, ...]  # what a per-case Control gets: base, residual rules, directives
    rules: tuple[tuple[int | None, clingo.ast.AST], ...]  # residual rules with their index in kb.rules
    static_atoms: tuple[clingo.Symbol, ...]  # the static part's (unique) answer set
    unfiltered: tuple  # (Symbol, native atom) of the static atoms every case gets
    filters: dict[Sig, _Filter] = field(default_factory=dict)
    _wanted: dict[Sig, tuple[int, ...]] = field(default_factory=dict)  # case input positions read per case
    _compiled: tuple = ()  # per residual rule, in dependency order: see _compile
    _acyclic: bool = True  # one pass of rules_for in dependency order reaches the fixpoint
    _base: tuple[clingo.ast.AST, ...] = ()  # the `#program base.` statement
    _directives: tuple[clingo.ast.AST, ...] = ()
    _keyed: tuple = ()  # per residual rule: the rule with its case variable replaced by KEY, or None

    # ------------------------------------------------------------ public API
    def static_atoms_for(self, case_facts: Sequence[clingo.Symbol]) -> list[clingo.Symbol]:
        """The static atoms a case with these input facts can use (a superset of those it uses)."""
        return [sym for sym, _ in self._static_for([_native_atom(f) for f in case_facts])]

    def rules_for(self, atoms: Iterable[clingo.Symbol]) -> list[tuple[int | None, clingo.ast.AST]]:
        """The residual rules that can fire given these facts (case facts + the chosen static atoms)."""
        return self._rules_for([_native_atom(a) for a in atoms])

    def select(self, case: "Case", key: str = "#0") -> tuple[list[clingo.Symbol], list[tuple[int | None, clingo.ast.AST]]]:
        """For one case: (static atoms to add, residual rules to ground) — the whole per-case filter."""
        natives = case_natives(case, key)
        pairs = self._static_for(natives)
        return [sym for sym, _ in pairs], self._rules_for(natives + [n for _, n in pairs])

    def statements_for(self, rules: Sequence[tuple[int | None, clingo.ast.AST]]) -> list[clingo.ast.AST]:
        """The statements of a per-case Control: ``#program base.``, *rules*, ``#show``/``#defined``."""
        return [*self._base, *(stmt for _, stmt in rules), *self._directives]

    def _keyed_statements(self, positions: Sequence[int]) -> list[clingo.ast.AST]:
        """As :meth:`statements_for`, with each rule specialised to the case key KEY where proven safe."""
        keyed, rules = self._keyed, self.rules
        return [*self._base, *(keyed[i] or rules[i][1] for i in positions), *self._directives]

    def add_to(self, ctl: clingo.Control, statements: Sequence[clingo.ast.AST] | None = None) -> None:
        """Add the residual program (parsed AST, no text) — or the given subset — to a control object."""
        with clingo.ast.ProgramBuilder(ctl) as builder:
            for stmt in self.statements if statements is None else statements:
                builder.add(stmt)

    def describe(self) -> str:
        """A short human-readable account of the split (for docs and debugging)."""
        lines = [f"case-dependent predicates: {len(self.case_dependent)}; residual rules: {len(self.rules)}; "
                 f"static atoms: {len(self.static_atoms)}; added to every case: {len(self.unfiltered)}"]
        for sig, f in sorted(self.filters.items()):
            n = len(f.always) + sum(len(v) for v in f.by_value.values())
            lines.append(f"  {sig[0]}/{sig[1]}: {n} atoms selected on argument {f.position + 1} by "
                         + (", ".join(f"{p[0]}/{p[1]} argument {i + 1}" for p, i in f.inputs) or "constants only")
                         + f" ({len(f.always)} always)")
        return "\n".join(lines)

    # ------------------------------------------------------------- internals
    def _static_for(self, natives: Sequence[tuple[Sig, tuple]]) -> list:
        wanted = self._wanted
        values: dict[tuple[Sig, int], set] = {}
        for sig, args in natives:
            for pos in wanted.get(sig, ()):
                values.setdefault((sig, pos), set()).add(args[pos])
        out = list(self.unfiltered)
        for f in self.filters.values():
            out.extend(f.always)
            seen: set = set()
            for key in f.inputs:
                for v in values.get(key, ()):
                    if v not in seen:
                        seen.add(v)
                        out.extend(f.by_value.get(v, ()))
        return out

    def _rules_for(self, natives: Iterable[tuple[Sig, tuple]]) -> list[tuple[int | None, clingo.ast.AST]]:
        return [self.rules[i] for i in self._kept(natives)]

    def _kept(self, natives: Iterable[tuple[Sig, tuple]]) -> list[int]:
        """Positions (in :attr:`rules`) of the rules that can fire: a forward over-approximation of the
        atoms, per predicate and position (see the module docstring)."""
        if not self._acyclic:
            return list(range(len(self.rules)))
        vals: dict[Sig, list] = {}  # case-dependent predicate -> per position: set of values or TOP
        rows: dict[Sig, list] = {}  # static predicate -> its given atoms' arguments (known exactly)
        dep = self.case_dependent
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
        for n, lits, static_lits, cmps, head, head_spec in self._compiled:  # dependency order: one pass
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


# --------------------------------------------------------------------- analysis
def _term(t: clingo.ast.AST) -> tuple:
    kind = t.ast_type  # each AST attribute is a C call: read it once
    if kind == ASTType.Variable:
        name = t.name
        return ("other",) if name == "_" else ("var", name)
    if kind == ASTType.SymbolicTerm:
        return ("c", t.symbol)
    if kind == ASTType.Function and not t.arguments and not t.external:
        return ("c", clingo.Function(t.name))
    return ("other",)


def _atom(atom: clingo.ast.AST) -> tuple[Sig, tuple]:
    if atom.ast_type != ASTType.SymbolicAtom:
        raise Unsupported(f"atom {atom}")
    t = atom.symbol
    kind = t.ast_type
    if kind == ASTType.Function and not t.external:
        args = t.arguments
        return (t.name, len(args)), tuple(_term(a) for a in args)
    if (kind == ASTType.SymbolicTerm and t.symbol.type == clingo.SymbolType.Function
            and t.symbol.positive):
        return (t.symbol.name, len(t.symbol.arguments)), tuple(("c", a) for a in t.symbol.arguments)
    raise Unsupported(f"atom {atom} (classical negation, pools or external functions)")


class _Body:
    def __init__(self) -> None:
        self.occurrences: list[_Occurrence] = []
        self.scopes = 0

    def literal(self, lit: clingo.ast.AST, scope: int, binding: bool, known: bool = False) -> None:
        if not known and lit.ast_type != ASTType.Literal:
            raise Unsupported(f"body element {lit}")
        atom = lit.atom
        kind = atom.ast_type
        if kind == ASTType.SymbolicAtom:
            pred, args = _atom(atom)
            self.occurrences.append(_Occurrence(pred, args, binding and lit.sign == clingo.ast.Sign.NoSign, scope))
        elif kind in (ASTType.Comparison, ASTType.BooleanConstant):
            pass
        elif kind == ASTType.BodyAggregate and scope == 0:
            for element in atom.elements:
                self.scopes += 1
                for c in element.condition:
                    self.literal(c, self.scopes, True)
        elif kind == ASTType.Aggregate and scope == 0:
            for element in atom.elements:
                self.conditional(element)
        else:
            raise Unsupported(f"body literal {lit}")

    def conditional(self, cond: clingo.ast.AST) -> None:
        self.scopes += 1
        self.literal(cond.literal, self.scopes, False)  # `a(X) : b(X)`: b binds X, a does not
        for c in cond.condition:
            self.literal(c, self.scopes, True)


def _analyse(kb: "KnowledgeBase", indices: dict[int, int] | None = None
             ) -> tuple[list[_Analysed], list[clingo.ast.AST], clingo.ast.AST | None]:
    """Every statement's head and body atoms; unknown constructs raise :class:`Unsupported`.

    Facts that *indices* maps to a ``kb.rules`` entry take their head predicate from it
    (reading clingo's AST costs ~5 µs per attribute; the KB has ~600 facts); their
    arguments are left as None and read by :func:`_head_args` only if needed.
    """
    rules: list[_Analysed] = []
    directives: list[clingo.ast.AST] = []
    base: clingo.ast.AST | None = None
    kb_rules = kb.rules
    for index, stmt in enumerate(kb.statements):
        j = indices.get(index) if indices else None
        if j is not None:
            r = kb_rules[j]
            name, _, arity = r.head.rpartition("/")
            if r.is_fact and name and r.text.startswith(name):
                rules.append(_Analysed(index, stmt, (name, int(arity)), None, ()))
                continue
        t = stmt.ast_type
        if t == ASTType.Comment:
            continue
        if t == ASTType.Program:
            if stmt.name != "base" or len(stmt.parameters):
                raise Unsupported(f"program part {stmt}")
            base = base or stmt
            continue
        if t in _DIRECTIVES:
            directives.append(stmt)
            continue
        if t != ASTType.Rule:
            raise Unsupported(f"statement {stmt}")
        head = stmt.head
        if head.ast_type != ASTType.Literal or head.sign != clingo.ast.Sign.NoSign:
            raise Unsupported(f"head of {stmt}")
        if head.atom.ast_type == ASTType.BooleanConstant:
            if head.atom.value:
                raise Unsupported(f"head of {stmt}")
            pred, args = None, ()
        else:
            pred, args = _atom(head.atom)
        body = _Body()
        for element in stmt.body:
            kind = element.ast_type
            if kind == ASTType.ConditionalLiteral:
                body.conditional(element)
            elif kind == ASTType.Literal:
                body.literal(element, 0, True, known=True)
            else:
                raise Unsupported(f"body element {element}")
        rules.append(_Analysed(index, stmt, pred, args, tuple(body.occurrences)))
    return rules, directives, base


def _head_args(r: _Analysed) -> _Analysed:
    if r.head_args is not None:
        return r
    return dataclasses.replace(r, head_args=_atom(r.stmt.head.atom)[1])


def _case_dependent(kb: "KnowledgeBase", rules: list[_Analysed]) -> set[Sig]:
    dep: set[Sig] = set()
    for sig in kb.inputs:
        name, arity = sig.rsplit("/", 1)
        dep.add((name, int(arity)))
    changed = True
    while changed:
        changed = False
        for r in rules:
            if r.head is not None and r.head not in dep and any(o.pred in dep for o in r.body):
                dep.add(r.head)
                changed = True
    return dep


def _static_model(base: clingo.ast.AST | None, rules: list[_Analysed],
                  directives: list[clingo.ast.AST]) -> list[clingo.Symbol] | None:
    """Ground and solve the static part once; its answer set, or None unless it has exactly one."""
    ctl = clingo.Control(["--warn=none"], logger=lambda code, msg: None)
    with clingo.ast.ProgramBuilder(ctl) as builder:
        if base is not None:
            builder.add(base)
        for r in rules:
            builder.add(r.stmt)
        for d in directives:
            if d.ast_type == ASTType.Defined:
                builder.add(d)
    ctl.ground([("base", [])])
    ctl.configuration.solve.models = 2
    models: list[list[clingo.Symbol]] = []
    ctl.solve(on_model=lambda m: models.append(m.symbols(atoms=True)))
    return models[0] if len(models) == 1 else None


def _binder(occurrences: Sequence[_Occurrence], name: str, scope: int, dep: set[Sig],
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


def _static_binder(occurrences: Sequence[_Occurrence], name: str, dep: set[Sig]) -> tuple[Sig, int] | None:
    for o in occurrences:
        if o.binder and o.scope == 0 and o.pred not in dep:
            for i, a in enumerate(o.args):
                if a == ("var", name):
                    return (o.pred, i)
    return None


def _domains(kb: "KnowledgeBase", residual: list[_Analysed], dep: set[Sig]) -> dict:
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
                b = _binder(r.body, a[1], 0, dep)
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
    return ("c", _native(t[1])) if t[0] == "c" else t


def _comparisons(stmt: clingo.ast.AST) -> tuple:
    """Positive top-level comparisons ``X op Y`` between variables and constants."""
    out = []
    for lit in stmt.body:
        if (lit.ast_type != ASTType.Literal or lit.sign != clingo.ast.Sign.NoSign
                or lit.atom.ast_type != ASTType.Comparison or len(lit.atom.guards) != 1):
            continue
        guard = lit.atom.guards[0]
        left, right = _nat_term(_term(lit.atom.term)), _nat_term(_term(guard.term))
        if left[0] != "other" and right[0] != "other" and guard.comparison in _OPS:
            op = _OPS[guard.comparison]
            out.append((left, op, right, op not in (operator.eq, operator.ne)))
    return tuple(out)


def _compile(residual: list[_Analysed], dep: set[Sig]) -> tuple[tuple, bool]:
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
        lits = [(o.pred, tuple((i, _native(a[1])) for i, a in enumerate(o.args) if a[0] == "c"),
                 tuple((i, a[1]) for i, a in enumerate(o.args) if a[0] == "var"))
                for o in r.body if o.binder and o.scope == 0]
        spec = tuple(_nat_term(a) for a in r.head_args)
        compiled.append((order.get(r.head, len(order)), n, tuple(x for x in lits if x[0] in dep),
                         tuple(x for x in lits if x[0] not in dep), _comparisons(r.stmt), r.head, spec))
    compiled.sort(key=lambda c: (c[0], c[1]))
    return tuple(c[1:] for c in compiled), acyclic


def _rule_indices(kb: "KnowledgeBase") -> dict[int, int]:
    """statement index -> index in kb.rules (kb.rules skips directives and unannotated statements)."""
    out: dict[int, int] = {}
    j = 0
    for index, stmt in enumerate(kb.statements):
        if j < len(kb.rules) and stmt.ast_type == ASTType.Rule and str(stmt) == kb.rules[j].text:
            out[index] = j
            j += 1
    return out


def residual_program(kb: "KnowledgeBase") -> ResidualProgram | None:
    """Split *kb* (see the module docstring); None when the split does not apply to it."""
    indices = _rule_indices(kb)
    try:
        rules, directives, base = _analyse(kb, indices)
        dep = _case_dependent(kb, rules)
        residual = [_head_args(r) for r in rules
                    if (r.head in dep) or (r.head is None and any(o.pred in dep for o in r.body))]
    except Unsupported:
        return None
    chosen = {r.index for r in residual}
    static = [r for r in rules if r.index not in chosen]
    model = _static_model(base, static, directives)
    if model is None:
        return None
    by_sig: dict[Sig, list[clingo.Symbol]] = {}
    for sym in model:
        by_sig.setdefault((sym.name, len(sym.arguments)), []).append(sym)
    domains = _domains(kb, residual, dep)

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
                b = _binder(r.body, a[1], o.scope, dep, domains) if a[0] == "var" else None
                d = domains.get(b, TOP) if b is not None else TOP
                per[k] = TOP if d is TOP else per[k] | d
    for d in directives:
        if d.ast_type == ASTType.ShowSignature and (d.name, d.arity) not in dep:
            positions[(d.name, d.arity)] = [TOP] * d.arity

    natives = {sym: _native_atom(sym) for sig in positions for sym in by_sig.get(sig, ())}

    def static_values(s: Sig, i: int) -> set:
        return {(natives.get(a) or _native_atom(a))[1][i] for a in by_sig.get(s, ())}

    unfiltered: list = []
    filters: dict[Sig, _Filter] = {}
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
                base_values.add(_native(src[1]))
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
        filters[sig] = _Filter(k, always, {v: tuple(x) for v, x in by_value.items()}, tuple(sorted(inputs)))

    statements = ([base] if base is not None else []) + [r.stmt for r in residual] + directives
    compiled, acyclic = _compile(residual, dep)
    keyed = _keyed(residual, dep, domains, KEY)
    return ResidualProgram(
        case_dependent=frozenset(dep),
        statements=tuple(statements),
        rules=tuple((indices.get(r.index), r.stmt) for r in residual),
        static_atoms=tuple(model),
        unfiltered=tuple(unfiltered),
        filters=filters,
        _wanted={s: tuple(sorted(p)) for s, p in wanted.items()},
        _compiled=compiled,
        _acyclic=acyclic,
        _base=(base,) if base is not None else (),
        _directives=tuple(directives),
        _keyed=keyed,
    )


class _CaseKey(clingo.ast.Transformer):
    """Replaces one variable by a constant (the case key)."""

    def __init__(self, name: str, key: clingo.Symbol):
        self.name, self.key = name, key

    def visit_Variable(self, v: clingo.ast.AST) -> clingo.ast.AST:
        return clingo.ast.SymbolicTerm(v.location, self.key) if v.name == self.name else v


def _keyed(residual: list[_Analysed], dep: set[Sig], domains: dict, key: str) -> tuple:
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


# ------------------------------------------------------------------- solving
def solve_rows(solver: "Solver", case: "Case", key: str = "#0") -> list[tuple[str, list, str | None]] | None:
    """One case through the residual program: its shown atoms as ``Solver._solve_rows`` gives them.

    None when the split does not apply (an ``extra_program``, a KB the analysis
    does not support) or is not built yet (the first cases of a process, see
    :meth:`KnowledgeBase.residual_when_warm`): the caller then solves the full program. Facts go in and
    atoms come out exactly as in the solver's chunked path (``exportkb.fastclingo``
    when available), and the solver's own check of exactly one answer set (with its
    time limit and error messages) is applied.
    """
    if solver.extra_program:
        return None
    res = solver.kb.residual_when_warm()
    if res is None:
        return None
    ctl = _grounded(res, case, key)
    rows: list[list] = [[]]
    if fastclingo.AVAILABLE:
        reader = fastclingo.AtomReader()
        read = lambda m: reader.rows(m, {key: 0}, rows, solver.options.atoms)  # noqa: E731
    else:
        read = str
    text = solver._unique_model(ctl, [case], [key], read)
    if fastclingo.AVAILABLE:
        return rows[0]
    for atom_text in _split_atoms(text):
        parsed = _parse_flat(atom_text)
        if parsed is None:  # a nested term: let clingo read it
            sym = clingo.parse_term(atom_text)
            parsed = (sym.name, [_py(a) for a in sym.arguments])
        name, args = parsed
        if args and args[0] == key:
            rows[0].append((name, args, atom_text))
    return rows[0]


def shown_atoms(res: ResidualProgram, case: "Case", key: str = "#0") -> list[str] | None:
    """The shown atoms of the residual solve of *case* as clingo prints them; None unless exactly one answer set."""
    ctl = _grounded(res, case, key)
    ctl.configuration.solve.models = 2
    found: list[str] = []
    ctl.solve(on_model=lambda m: found.append(str(m)))
    return _split_atoms(found[0]) if len(found) == 1 else None


def _grounded(res: ResidualProgram, case: "Case", key: str) -> clingo.Control:
    """A fresh control with the case's residual rules, its facts and its static atoms, grounded."""
    natives = case_natives(case, key)
    pairs = res._static_for(natives)
    kept = res._kept(natives + [n for _, n in pairs])
    ctl = clingo.Control(["--warn=none"], logger=lambda code, msg: None)
    res.add_to(ctl, res._keyed_statements(kept) if key == KEY else res.statements_for([res.rules[i] for i in kept]))
    with ctl.backend() as backend:
        if fastclingo.AVAILABLE:
            w = fastclingo.FactWriter(backend)
            emit_facts(case, key, w.string, w.number, w.constant, w.adder)
            _add_raw(backend, [sym._rep for sym, _ in pairs])
        else:
            for sym in case_facts(case, key):
                backend.add_rule([backend.add_atom(sym)])
            for sym, _ in pairs:
                backend.add_rule([backend.add_atom(sym)])
    ctl.ground([("base", [])])
    return ctl


def _add_raw(backend, reps: Sequence[int]) -> None:
    """Ground facts given as raw symbols, through clingo's C backend functions (see exportkb.fastclingo)."""
    ffi, lib = fastclingo.ffi, fastclingo.lib
    b, head, sym = backend._rep, ffi.new("clingo_atom_t[1]"), ffi.new("clingo_symbol_t*")
    add_atom, rule, NULL = lib.clingo_backend_add_atom, lib.clingo_backend_rule, ffi.NULL
    for rep in reps:
        sym[0] = rep
        if not add_atom(b, sym, head) or not rule(b, False, head, 1, NULL, 0):
            fastclingo._fail("adding a static fact")
