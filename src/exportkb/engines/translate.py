"""Translate the knowledge base (clingo AST) into pyDatalog rules, stratum by stratum.

Why a translation at all: a second, independent engine that agrees with clingo
on every case is the strongest check we have that the KB means what its text
says (the performance notes record a pool bug that only such a comparison
caught). pyDatalog evaluates every rule — joins, default negation, comparisons,
arithmetic, ``#sum``/``#count`` — and this module only rewrites syntax:

* predicate ``p/n`` becomes ``p__n`` (arity 0 gets one dummy argument);
  variable ``X`` becomes ``V_X``; ``_`` becomes a fresh variable;
* a clingo value becomes a Python value: integers stay integers, every other
  symbol becomes its clingo text (``"US"`` keeps its quotes, ``aia`` does not),
  so strings and constants never meet;
* arithmetic in an atom argument becomes a fresh variable and ``(V == expr)``;
* body literals are reordered for pyDatalog's left-to-right evaluation:
  positive atoms, then comparisons/assignments once their variables are bound,
  then negations; a negated atom with variables of its own is negated through a
  projection helper (``not p(C, _)`` → ``~proj(C)`` with ``proj(C) <= p(C, X)``);
* ``S = #sum { W, T... : cond }`` / ``#count`` become an element helper, a
  pyDatalog aggregate ``sum_(W, for_each=(T...))`` and two versions of the rule:
  one reading the aggregate, one for an empty set (value 0, as in clingo).

Predicates are stratified (a negated or aggregated predicate sits in a lower
stratum); :mod:`exportkb.engines.pydatalog_engine` runs one pyDatalog program
per stratum. Everything outside this fragment is reported by
:func:`translate` as a problem (see :func:`exportkb.engines.fragment_problems`).
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import clingo
import clingo.ast as A

from ..errors import ExportKBError

Sig = tuple[str, int]
Value = int | str

_ARITH = {A.BinaryOperator.Plus: "+", A.BinaryOperator.Minus: "-", A.BinaryOperator.Multiplication: "*"}
_CMP = {A.ComparisonOperator.Equal: "==", A.ComparisonOperator.NotEqual: "!=",
        A.ComparisonOperator.LessThan: "<", A.ComparisonOperator.LessEqual: "<=",
        A.ComparisonOperator.GreaterThan: ">", A.ComparisonOperator.GreaterEqual: ">="}
_NEGATE = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
_FLIP = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}
UNIT = "()"  # the dummy argument of a 0-ary predicate


class TranslationError(ExportKBError):
    """The KB uses something the pyDatalog translation cannot follow."""


class Unsupported(Exception):
    """One construct outside the fragment (internal: becomes a problem line)."""


def pname(sig: Sig) -> str:
    """The pyDatalog name of a clingo predicate."""
    return f"{sig[0]}__{sig[1]}"


def encode(sym: clingo.Symbol) -> Value:
    """A clingo value as a pyDatalog (Python) value; see the module docstring."""
    if sym.type == clingo.SymbolType.Number:
        return sym.number
    return str(sym)


def encode_args(sym: clingo.Symbol) -> tuple[Value, ...]:
    return tuple(encode(a) for a in sym.arguments) or (UNIT,)


@dataclass
class TRule:
    """One KB rule in pyDatalog text (several lines when it has aggregates or helpers)."""

    head: Sig
    positive: set[Sig]  # predicates read positively
    strict: set[Sig]    # predicates read under negation or inside an aggregate
    lines: list[str]
    origin: str


@dataclass
class Stratum:
    """One component of mutually dependent predicates, evaluated by one pyDatalog program."""

    level: int  # position in the bottom-up order
    heads: list[Sig]
    reads: list[Sig]  # predicates of earlier components (or inputs) that the rules read
    program: str


@dataclass
class Translation:
    """The KB as pyDatalog programs, one per stratum, plus the KB's ground facts."""

    facts: dict[Sig, set[tuple[Value, ...]]] = field(default_factory=dict)
    rules: list[TRule] = field(default_factory=list)
    shown: set[Sig] | None = None
    problems: list[str] = field(default_factory=list)
    strata: list[Stratum] = field(default_factory=list)


class _Vars:
    """Variable naming for one rule: clingo names kept (prefixed), fresh ones numbered."""

    def __init__(self) -> None:
        self.n = itertools.count()

    def fresh(self) -> str:
        return f"V__{next(self.n)}"


@dataclass
class _Item:
    """A body element waiting to be placed once the variables it needs are bound."""

    text: str
    needs: set[str]
    binds: set[str] = field(default_factory=set)
    alt: "_Item | None" = None  # `(A == B)` may also be placed as `(B == A)` when only A is bound


def statement_place(stmt: A.AST) -> str:
    """``file:line`` of a statement, as problems and translated rules cite it."""
    loc = stmt.location.begin
    return f"{loc.filename}:{loc.line}"


_STRING_RE = re.compile(r'"(?:\\.|[^"\\])*"')
_VAR_RE = re.compile(r"(?<![A-Za-z0-9_'])(_*[A-Z][A-Za-z0-9_']*|_(?![A-Za-z0-9_']))")


def _vars(node: A.AST) -> set[str]:
    """The variable names in a statement part, read from its clingo text (string literals
    removed): walking the AST through clingo's C API dominated the translation time."""
    return set(_VAR_RE.findall(_STRING_RE.sub('""', str(node))))


def _vname(name: str, vs: _Vars) -> str:
    return vs.fresh() if name == "_" else f"V_{name}"


def _has(node: A.AST, kinds: tuple) -> bool:
    """Whether an AST node contains a node of one of the given types (pools, intervals...)."""
    if isinstance(node, A.AST) and not any(x in _STRING_RE.sub('""', str(node)) for x in (";", "..")):
        return False  # no pool or interval can hide in text without ';' or '..' (a cheap first test)
    return _walk_has(node, kinds)


def _walk_has(node: A.AST, kinds: tuple) -> bool:
    if isinstance(node, A.AST):
        if node.ast_type in kinds:
            return True
        return any(_walk_has(getattr(node, k), kinds) for k in node.child_keys)
    if isinstance(node, (list, tuple)) or type(node).__name__ == "ASTSequence":
        return any(_walk_has(m, kinds) for m in node)
    return False


def _ground_value(term: A.AST) -> Value:
    if _has(term, (A.ASTType.Pool,)):
        raise Unsupported(f"pool (';') in {term}")
    if _has(term, (A.ASTType.Interval,)):
        raise Unsupported(f"interval ('..') in {term}")
    try:
        return encode(clingo.parse_term(str(term)))
    except RuntimeError as exc:  # pragma: no cover - clingo already parsed it once
        raise Unsupported(f"cannot evaluate the ground term {term}") from exc


def _literal(v: Value) -> str:
    return repr(v)


# Integer division and modulo with clingo's (C's) semantics — truncation toward zero,
# no result when dividing by zero — written as pyDatalog rules, added to every program.
BUILTINS = """\
exportkb_div(A, B, Q) <= (A >= 0) & (B > 0) & (Q == A // B)
exportkb_div(A, B, Q) <= (A < 0) & (B > 0) & (Q == 0 - ((0 - A) // B))
exportkb_div(A, B, Q) <= (A >= 0) & (B < 0) & (Q == 0 - (A // (0 - B)))
exportkb_div(A, B, Q) <= (A < 0) & (B < 0) & (Q == (0 - A) // (0 - B))
exportkb_mod(A, B, R) <= exportkb_div(A, B, Q) & (R == A - B * Q)
"""


def _simple(expr: str, vs: _Vars, pre: list[_Item]) -> str:
    """A variable or constant for *expr*: pyDatalog predicates take no expressions as arguments."""
    if expr.startswith("(") or " " in expr:
        fresh = vs.fresh()
        pre.append(_Item(f"({fresh} == {expr})", _names_in(expr), {fresh}))
        return fresh
    return expr


def _template(term: A.AST, vs: _Vars, names: dict[str, str], pre: list[_Item], args: list[str]) -> str:
    """The clingo text of a (non-ground) function term as a str.format template, holes → *args*."""
    if not _vars(term):
        return str(clingo.parse_term(str(term))).replace("{", "{{").replace("}", "}}")
    if term.ast_type == A.ASTType.Function and not term.external:
        inner = [_template(a, vs, names, pre, args) for a in term.arguments]
        if term.name == "":
            return "(" + ",".join(inner) + ("," if len(inner) == 1 else "") + ")"
        return f"{term.name}(" + ",".join(inner) + ")"
    args.append(_simple(_expr(term, vs, names, pre), vs, pre))
    return "{}"


def _expr(term: A.AST, vs: _Vars, names: dict[str, str], pre: list[_Item]) -> str:
    """A term as a pyDatalog expression; division, modulo and function terms add items to *pre*."""
    t = term.ast_type
    if t == A.ASTType.Variable:
        if term.name == "_":
            raise Unsupported("anonymous variable inside arithmetic or a comparison")
        return names.setdefault(term.name, _vname(term.name, vs))
    if t == A.ASTType.Pool:
        raise Unsupported(f"pool (';') in {term}")
    if t == A.ASTType.Interval:
        raise Unsupported(f"interval ('..') in {term}")
    if not _vars(term):
        return _literal(_ground_value(term))
    if t == A.ASTType.BinaryOperation:
        operator = A.BinaryOperator(term.operator_type)
        left = _expr(term.left, vs, names, pre)
        right = _expr(term.right, vs, names, pre)
        if operator in _ARITH:
            return f"({left} {_ARITH[operator]} {right})"
        if operator in (A.BinaryOperator.Division, A.BinaryOperator.Modulo):
            a, b = _simple(left, vs, pre), _simple(right, vs, pre)
            out = vs.fresh()
            helper = "exportkb_div" if operator == A.BinaryOperator.Division else "exportkb_mod"
            pre.append(_Item(f"{helper}({a}, {b}, {out})", _names_in(a) | _names_in(b), {out}))
            return out
        raise Unsupported(f"arithmetic operator {operator.name} (only +, -, *, / and \\ are in the fragment) in {term}")
    if t == A.ASTType.UnaryOperation and A.UnaryOperator(term.operator_type) == A.UnaryOperator.Minus:
        return f"(0 - {_expr(term.argument, vs, names, pre)})"
    if t == A.ASTType.Function and not term.external:
        # a function term with variables, e.g. note(C, not_subject_to_ear(I)): built as the text
        # clingo prints for it (which is how every non-integer value is encoded)
        args: list[str] = []
        tpl = _template(term, vs, names, pre, args)
        out = vs.fresh()
        pre.append(_Item(f"({out} == format_({tpl!r}, {', '.join(args)}))", set().union(*map(_names_in, args)), {out}))
        return out
    raise Unsupported(f"term {term} ({t.name})")


def _atom(symbol: A.AST, vs: _Vars, names: dict[str, str], items: list[_Item]) -> tuple[Sig, str, set[str]]:
    """A symbolic atom as pyDatalog text; non-variable, non-ground arguments become fresh variables + items."""
    if symbol.ast_type == A.ASTType.Pool or _has(symbol, (A.ASTType.Pool,)):
        raise Unsupported(f"pool (';') in atom {symbol}")
    if _has(symbol, (A.ASTType.Interval,)):
        raise Unsupported(f"interval ('..') in atom {symbol}")
    if symbol.ast_type == A.ASTType.SymbolicTerm:
        sym = symbol.symbol
        if sym.type != clingo.SymbolType.Function:
            raise Unsupported(f"atom {symbol} is not a predicate")
        sig = (sym.name, len(sym.arguments))
        return sig, f"{pname(sig)}({', '.join(_literal(a) for a in encode_args(sym))})", set()
    if symbol.ast_type != A.ASTType.Function or symbol.external:
        raise Unsupported(f"atom {symbol}")
    sig = (symbol.name, len(symbol.arguments))
    args: list[str] = []
    direct: set[str] = set()
    for arg in symbol.arguments:
        if arg.ast_type == A.ASTType.Variable:
            v = names.setdefault(arg.name, _vname(arg.name, vs)) if arg.name != "_" else vs.fresh()
            args.append(v)
            direct.add(v)
        elif not _vars(arg):
            args.append(_literal(_ground_value(arg)))
        else:
            fresh = vs.fresh()
            pre: list[_Item] = []
            expr = _expr(arg, vs, names, pre)
            items.extend(pre)
            # in a body atom `fresh` is bound by the atom (a test); in a head, this assigns it
            items.append(_Item(f"({fresh} == {expr})", _names_in(expr), {fresh}))
            args.append(fresh)
            direct.add(fresh)
    if not args:
        args = [_literal(UNIT)]
    return sig, f"{pname(sig)}({', '.join(args)})", direct


def _names_in(expr: str) -> set[str]:
    return set(re.findall(r"\bV_[A-Za-z0-9_']*", expr))


class _RuleBuilder:
    """Translates one clingo rule into one or more pyDatalog rules."""

    def __init__(self, stmt: A.AST, counter: itertools.count):
        self.stmt = stmt
        self.counter = counter
        self.vs = _Vars()
        self.names: dict[str, str] = {}
        self.extra_lines: list[str] = []
        self.positive: set[Sig] = set()
        self.strict: set[Sig] = set()

    def build(self) -> TRule:
        stmt = self.stmt
        head = stmt.head
        if head.ast_type == A.ASTType.Disjunction:
            raise Unsupported("disjunction in the head")
        if head.ast_type in (A.ASTType.Aggregate, A.ASTType.HeadAggregate):
            raise Unsupported("choice rule / head aggregate")
        if head.ast_type == A.ASTType.TheoryAtom:
            raise Unsupported("theory atom")
        if head.ast_type != A.ASTType.Literal or head.atom.ast_type != A.ASTType.SymbolicAtom:
            if head.ast_type == A.ASTType.Literal and head.atom.ast_type == A.ASTType.BooleanConstant:
                raise Unsupported("integrity constraint")
            raise Unsupported(f"head {head}")
        if head.sign != A.Sign.NoSign:
            raise Unsupported("default negation in the head")
        outside_vars = _vars(head)
        for lit in stmt.body:
            if not (lit.ast_type == A.ASTType.Literal and lit.atom.ast_type == A.ASTType.BodyAggregate):
                outside_vars |= _vars(lit)
        head_items: list[_Item] = []
        head_sig, head_text, _ = _atom(head.atom.symbol, self.vs, self.names, head_items)
        positives: list[tuple[str, set[str]]] = []
        items: list[_Item] = list(head_items)
        aggs: list[list[tuple[list[_Item], set[str]]]] = []  # per aggregate: versions (items, extra binds)
        for lit in stmt.body:
            if lit.ast_type == A.ASTType.ConditionalLiteral:
                raise Unsupported("conditional literal (':')")
            if lit.ast_type != A.ASTType.Literal:
                raise Unsupported(f"body element {lit}")
            atom = lit.atom
            if lit.sign == A.Sign.DoubleNegation:
                raise Unsupported("double negation ('not not')")
            if atom.ast_type == A.ASTType.SymbolicAtom:
                if lit.sign == A.Sign.NoSign:
                    sig, text, direct = _atom(atom.symbol, self.vs, self.names, items)
                    self.positive.add(sig)
                    positives.append((text, direct))
                else:
                    items.append(self._negative(atom.symbol, outside_vars, lit))
            elif atom.ast_type == A.ASTType.Comparison:
                items.extend(self._comparison(atom, negated=lit.sign == A.Sign.Negation))
            elif atom.ast_type == A.ASTType.BodyAggregate:
                if lit.sign != A.Sign.NoSign:
                    raise Unsupported("negated aggregate")
                aggs.append(self._aggregate(atom, outside_vars, stmt))
            elif atom.ast_type == A.ASTType.BooleanConstant:
                raise Unsupported("#true/#false in a body")
            else:
                raise Unsupported(f"body literal {lit} ({atom.ast_type.name})")
        lines: list[str] = []
        for combo in itertools.product(*aggs) if aggs else [()]:
            version_items = list(items)
            for agg_items, _unused in combo:
                version_items = agg_items + version_items
            lines.append(f"{head_text} <= {self._order(positives, version_items)}")
        return TRule(head_sig, self.positive, self.strict, self.extra_lines + lines, statement_place(stmt))

    # -- pieces -------------------------------------------------------------------------
    def _negative(self, symbol: A.AST, outside_vars: set[str], lit: A.AST) -> _Item:
        own_items: list[_Item] = []
        sig, text, _ = _atom(symbol, self.vs, self.names, own_items)
        if own_items:
            raise Unsupported(f"arithmetic inside a negated atom {lit}")
        self.strict.add(sig)
        # variables that occur only in this literal (e.g. `_`) are projected away
        others = set(outside_vars)
        for l2 in self.stmt.body:
            if str(l2) != str(lit):
                others |= _vars(l2)
        others |= _vars(self.stmt.head)
        mine = _vars(symbol)
        local = {v for v in mine if v not in others} | ({"_"} if "_" in mine else set())
        if not local:
            return _Item(f"~ {text}", _names_in(text))
        keep = sorted(v for v in mine if v not in local and v != "_")
        helper = f"exportkb_proj{next(self.counter)}"
        proj_vars = [self.names.setdefault(v, _vname(v, self.vs)) for v in keep]
        key = [_literal(0)] + proj_vars
        self.extra_lines.append(f"{helper}({', '.join(key)}) <= {text}")
        return _Item(f"~ {helper}({', '.join(key)})", set(proj_vars))

    def _comparison(self, comp: A.AST, negated: bool) -> list[_Item]:
        if len(comp.guards) != 1:
            raise Unsupported(f"chained comparison {comp}")
        op = _CMP[A.ComparisonOperator(comp.guards[0].comparison)]
        if negated:
            op = _NEGATE[op]
        return self._compare(comp.term, op, comp.guards[0].term)

    def _compare(self, left: A.AST, op: str, right: A.AST) -> list[_Item]:
        """``left op right`` as pyDatalog items (``==`` with an unbound variable side assigns)."""
        lv = left.ast_type == A.ASTType.Variable and left.name != "_"
        rv = right.ast_type == A.ASTType.Variable and right.name != "_"
        if not lv and rv:
            left, right, op = right, left, _FLIP[op]
            lv, rv = rv, lv
        pre: list[_Item] = []
        if lv:
            v = self.names.setdefault(left.name, _vname(left.name, self.vs))
            expr = _expr(right, self.vs, self.names, pre)
            if op == "==":
                # assignment if v is not bound yet (decided when placing), else a test
                alt = None
                if right.ast_type == A.ASTType.Variable and right.name != "_":
                    alt = _Item(f"({expr} == {v})", {v}, {expr})
                return pre + [_Item(f"({v} == {expr})", _names_in(expr), {v}, alt)]
            return pre + [_Item(f"({v} {op} {expr})", _names_in(expr) | {v})]
        fresh = self.vs.fresh()
        lexpr = _expr(left, self.vs, self.names, pre)
        rexpr = _expr(right, self.vs, self.names, pre)
        return pre + [_Item(f"({fresh} == {lexpr})", _names_in(lexpr), {fresh}),
                      _Item(f"({fresh} {op} {rexpr})", _names_in(rexpr) | {fresh})]

    def _aggregate(self, agg: A.AST, outside_vars: set[str], stmt: A.AST) -> list[tuple[list[_Item], set[str]]]:
        fn = A.AggregateFunction(agg.function)
        if fn not in (A.AggregateFunction.Sum, A.AggregateFunction.Count):
            raise Unsupported(f"aggregate #{fn.name.lower()} (only #sum and #count are in the fragment)")
        if not agg.elements:
            raise Unsupported("aggregate without elements")
        inner = set()
        for el in agg.elements:
            inner |= _vars(el)
        globals_ = sorted(v for v in inner & outside_vars if v != "_")
        n = next(self.counter)
        elem, val, anyp = f"exportkb_agg{n}_elem", f"exportkb_agg{n}_val", f"exportkb_agg{n}_any"
        gvars = [self.names.setdefault(g, _vname(g, self.vs)) for g in globals_]
        width = {len(el.terms) for el in agg.elements}
        if len(width) != 1 or 0 in width:
            raise Unsupported("aggregate elements with tuples of different (or zero) length")
        m = width.pop()
        # context: the rule's positive atoms, so that globals are bound as in clingo
        context: list[str] = []
        for lit in stmt.body:
            if (lit.ast_type == A.ASTType.Literal and lit.sign == A.Sign.NoSign
                    and lit.atom.ast_type == A.ASTType.SymbolicAtom):
                ctx_items: list[_Item] = []
                _sig, text, _ = _atom(lit.atom.symbol, self.vs, self.names, ctx_items)
                if not ctx_items:
                    context.append(text)
        for el in agg.elements:
            el_names = dict(self.names)
            el_items: list[_Item] = []
            cond_pos: list[tuple[str, set[str]]] = []
            for lit in el.condition:
                if lit.ast_type != A.ASTType.Literal:
                    raise Unsupported("conditional literal inside an aggregate")
                if lit.atom.ast_type == A.ASTType.SymbolicAtom and lit.sign == A.Sign.NoSign:
                    sig, text, direct = _atom(lit.atom.symbol, self.vs, el_names, el_items)
                    self.strict.add(sig)
                    cond_pos.append((text, direct))
                elif lit.atom.ast_type == A.ASTType.SymbolicAtom and lit.sign == A.Sign.Negation:
                    saved, self.names = self.names, el_names
                    try:
                        item = self._negative(lit.atom.symbol, outside_vars | _vars(el), lit)
                    finally:
                        self.names = saved
                    el_items.append(item)
                elif lit.atom.ast_type == A.ASTType.Comparison:
                    saved, self.names = self.names, el_names
                    try:
                        el_items.extend(self._comparison(lit.atom, lit.sign == A.Sign.Negation))
                    finally:
                        self.names = saved
                else:
                    raise Unsupported(f"aggregate condition {lit}")
            cols: list[str] = []
            for t in el.terms:
                if t.ast_type == A.ASTType.Variable and t.name != "_":
                    cols.append(el_names.setdefault(t.name, _vname(t.name, self.vs)))
                elif not _vars(t):
                    cols.append(_literal(_ground_value(t)))
                else:
                    fresh = self.vs.fresh()
                    expr = _expr(t, self.vs, el_names, el_items)
                    el_items.append(_Item(f"({fresh} == {expr})", _names_in(expr), {fresh}))
                    cols.append(fresh)
            weight = cols[0] if fn == A.AggregateFunction.Sum else _literal(1)
            key = [_literal(0)] + [el_names[g] if g in el_names else self.names[g] for g in globals_]
            body = self._order(cond_pos + [(c, _names_in(c)) for c in context], el_items)
            self.extra_lines.append(f"{elem}({', '.join(key + [weight] + cols)}) <= {body}")
        ws = self.vs.fresh()
        tcols = [self.vs.fresh() for _ in range(m)]
        zero = self.vs.fresh()
        self.extra_lines.append(
            f"({val}[{', '.join([zero] + gvars)}] == sum_({ws}, for_each=({', '.join(tcols)},))) <= "
            f"{elem}({', '.join([zero] + gvars + [ws] + tcols)})")
        self.extra_lines.append(f"{anyp}({', '.join([zero] + gvars)}) <= {elem}({', '.join([zero] + gvars + [ws] + tcols)})")
        result = self.vs.fresh()
        key = ", ".join([_literal(0)] + gvars)
        guards: list[_Item] = []
        for side, guard in (("left", agg.left_guard), ("right", agg.right_guard)):
            if guard is None:
                continue
            op = _CMP[A.ComparisonOperator(guard.comparison)]
            if side == "left":  # term op AGG  ==  AGG flip(op) term
                op = _FLIP[op]
            if guard.term.ast_type == A.ASTType.Variable and guard.term.name != "_" and op == "==":
                v = self.names.setdefault(guard.term.name, _vname(guard.term.name, self.vs))
                guards.append(_Item(f"({v} == {result})", {result}, {v}))
            else:
                expr = _expr(guard.term, self.vs, self.names, guards)
                guards.append(_Item(f"({result} {op} {expr})", _names_in(expr) | {result}))
        with_value = [_Item(f"({val}[{key}] == {result})", set(gvars), {result})] + guards
        empty = [_Item(f"~ {anyp}({key})", set(gvars)), _Item(f"({result} == 0)", set(), {result})] + guards
        return [(with_value, set()), (empty, set())]

    def _order(self, positives: Sequence[tuple[str, set[str]]], items: Iterable[_Item]) -> str:
        """Positive atoms first, then each item as soon as the variables it needs are bound."""
        bound: set[str] = set()
        out: list[str] = []
        for text, direct in positives:
            out.append(text)
            bound |= direct | _names_in(text)
        pending = list(items)
        while pending:
            for i, it in enumerate(pending):
                use = it if it.needs <= bound else (it.alt if it.alt and it.alt.needs <= bound else None)
                if use is not None:
                    out.append(use.text)
                    bound |= use.binds
                    pending.pop(i)
                    break
            else:
                raise Unsupported("unsafe rule for a left-to-right evaluation: cannot bind "
                                  + ", ".join(sorted(set().union(*(p.needs for p in pending)) - bound)))
        if not out:
            raise Unsupported("rule without a positive body atom")
        return " & ".join(out)


def translate(statements: Sequence[A.AST], locate: Callable[[A.AST], str] | None = None) -> Translation:
    """The KB's statements as stratified pyDatalog programs; constructs outside the fragment → problems.

    *locate* names a statement's place (``file:line``) in problem messages; by default the
    parser's location (``<string>:line`` for text parsed from a string).
    """
    where = locate or statement_place
    tr = Translation()
    counter = itertools.count()
    shown: set[Sig] = set()
    any_show = False
    for stmt in statements:
        t = stmt.ast_type
        try:
            if t == A.ASTType.Program:
                if stmt.name != "base" or stmt.parameters:
                    raise Unsupported(f"program part #program {stmt.name}")
            elif t == A.ASTType.ShowSignature:
                any_show = True
                if stmt.positive:
                    shown.add((stmt.name, stmt.arity))
            elif t in (A.ASTType.Comment, A.ASTType.Defined):
                continue
            elif t == A.ASTType.Rule:
                fact = _quick_fact(stmt)
                if fact is not None:
                    tr.facts.setdefault((fact.name, len(fact.arguments)), set()).add(encode_args(fact))
                    continue
                if not stmt.body and not _vars(stmt.head) and stmt.head.ast_type == A.ASTType.Literal \
                        and stmt.head.atom.ast_type == A.ASTType.SymbolicAtom and stmt.head.sign == A.Sign.NoSign:
                    sym = _fact_symbol(stmt.head.atom.symbol)
                    tr.facts.setdefault((sym.name, len(sym.arguments)), set()).add(encode_args(sym))
                    continue
                rb = _RuleBuilder(stmt, counter)
                rule = rb.build()
                if locate is not None:
                    rule.origin = locate(stmt)
                tr.rules.append(rule)
            else:
                raise Unsupported({
                    A.ASTType.Minimize: "weak constraint / #minimize / #maximize (optimisation)",
                    A.ASTType.ShowTerm: "#show of a term (only #show p/n is supported)",
                    A.ASTType.Definition: "#const definition",
                    A.ASTType.External: "#external declaration",
                    A.ASTType.Script: "embedded script",
                    A.ASTType.Heuristic: "#heuristic directive",
                    A.ASTType.Edge: "#edge directive",
                    A.ASTType.ProjectAtom: "#project directive",
                    A.ASTType.ProjectSignature: "#project directive",
                    A.ASTType.TheoryDefinition: "theory definition",
                }.get(t, f"statement of type {t.name}"))
        except Unsupported as exc:
            tr.problems.append(f"{where(stmt)}: outside the stratified fragment: {exc}: {stmt}")
    tr.shown = shown if any_show else None
    if not tr.problems:
        _stratify(tr)
    return tr


def _quick_fact(stmt: A.AST) -> clingo.Symbol | None:
    """A plain ground fact read from its text (most of kb/ is data; walking the AST of each
    fact through clingo's C API was most of the translation time), else None."""
    if len(stmt.body):
        return None
    text = str(stmt.head)
    if ";" in text or ".." in text or text.startswith(("#", "{", "not ")):
        return None  # pools, intervals, choices... (or a string holding such text): the full path decides
    try:
        sym = clingo.parse_term(text)
    except RuntimeError:  # variables, or not a term
        return None
    return sym if sym.type == clingo.SymbolType.Function and sym.name and not sym.negative else None


def _fact_symbol(term: A.AST) -> clingo.Symbol:
    if _has(term, (A.ASTType.Pool, A.ASTType.Interval)):
        raise Unsupported(f"pool or interval in the fact {term}")
    sym = clingo.parse_term(str(term))
    if sym.type != clingo.SymbolType.Function:
        raise Unsupported(f"fact {term} is not an atom")
    if sym.negative:
        raise Unsupported(f"classical negation in the fact {term}")
    return sym


def _stratify(tr: Translation) -> None:
    """Order the derived predicates bottom-up, one component (SCC) at a time.

    Each component becomes one pyDatalog program; it may be recursive through
    positive literals only. Recursion through default negation or an aggregate
    (not stratified) is reported as a problem.
    """
    import networkx as nx

    heads = {r.head for r in tr.rules}
    graph = nx.DiGraph()
    graph.add_nodes_from(heads)
    strict_edges: list[tuple[Sig, Sig, str]] = []
    for r in tr.rules:
        for p in r.positive & heads:
            graph.add_edge(p, r.head)
        for p in r.strict & heads:
            graph.add_edge(p, r.head)
            strict_edges.append((p, r.head, r.origin))
    cond = nx.condensation(graph)
    member = cond.graph["mapping"]
    for p, h, origin in strict_edges:
        if member[p] == member[h]:
            tr.problems.append(f"{origin}: not stratified: {h[0]}/{h[1]} depends on itself through default "
                               f"negation or an aggregate (via {p[0]}/{p[1]})")
    if tr.problems:
        return
    by_head: dict[Sig, list[TRule]] = {}
    for r in tr.rules:
        by_head.setdefault(r.head, []).append(r)
    for level, comp in enumerate(nx.lexicographical_topological_sort(cond, key=lambda n: min(cond.nodes[n]["members"]))):
        hs = sorted(cond.nodes[comp]["members"])
        rules = [r for h in hs for r in by_head[h]]
        reads = sorted(set().union(*(r.positive | r.strict for r in rules)) - set(hs))
        text = "\n".join(line for r in rules for line in r.lines)
        tr.strata.append(Stratum(level, hs, reads, text))
