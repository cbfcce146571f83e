"""Part 1 of the residual argument — the split: which predicates depend on the case, and the static part's model.

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

Anything the analysis does not know (choice or disjunctive heads, classical
negation, ``#external``, ``#const``, ``#script``, theory atoms, program parts
other than ``base``, a static part without exactly one answer set) makes
:func:`residual_program` return None, and callers fall back to the full program.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import clingo
import clingo.ast
from clingo.ast import ASTType

if TYPE_CHECKING:  # pragma: no cover
    from ...kb.knowledge import KnowledgeBase


class Unsupported(Exception):
    """A construct the split does not analyse: use the full program."""


Sig = tuple[str, int]  # (name, arity) of a predicate


@dataclass(frozen=True)
class Occurrence:
    """One atom in a rule body (at any depth)."""

    pred: Sig
    args: tuple  # per position: ("var", name) | ("c", Symbol) | ("other",)
    binder: bool  # positive and in a binding place (body top level or a condition)
    scope: int  # 0 = the body's top level; n > 0 = one aggregate element / conditional literal


@dataclass(frozen=True)
class Analysed:
    """One statement of the KB: its head predicate and arguments and its body atoms."""

    index: int  # position in KnowledgeBase.statements
    stmt: clingo.ast.AST
    head: Sig | None  # None for a constraint
    head_args: tuple
    body: tuple[Occurrence, ...]


_DIRECTIVES = (ASTType.ShowSignature, ASTType.Defined)


def term_of(t: clingo.ast.AST) -> tuple:
    """A term as the analysis sees it: ("var", name), ("c", Symbol) for a constant, or ("other",)."""
    kind = t.ast_type  # each AST attribute is a C call: read it once
    if kind == ASTType.Variable:
        name = t.name
        return ("other",) if name == "_" else ("var", name)
    if kind == ASTType.SymbolicTerm:
        return ("c", t.symbol)
    if kind == ASTType.Function and not t.arguments and not t.external:
        return ("c", clingo.Function(t.name))
    return ("other",)


def atom_of(atom: clingo.ast.AST) -> tuple[Sig, tuple]:
    """A symbolic atom's predicate and argument terms; anything else is :class:`Unsupported`."""
    if atom.ast_type != ASTType.SymbolicAtom:
        raise Unsupported(f"atom {atom}")
    t = atom.symbol
    kind = t.ast_type
    if kind == ASTType.Function and not t.external:
        args = t.arguments
        return (t.name, len(args)), tuple(term_of(a) for a in args)
    if (kind == ASTType.SymbolicTerm and t.symbol.type == clingo.SymbolType.Function
            and t.symbol.positive):
        return (t.symbol.name, len(t.symbol.arguments)), tuple(("c", a) for a in t.symbol.arguments)
    raise Unsupported(f"atom {atom} (classical negation, pools or external functions)")


class Body:
    """The atoms of one rule body, with their scope and whether they bind variables."""

    def __init__(self) -> None:
        self.occurrences: list[Occurrence] = []
        self.scopes = 0

    def literal(self, lit: clingo.ast.AST, scope: int, binding: bool, known: bool = False) -> None:
        if not known and lit.ast_type != ASTType.Literal:
            raise Unsupported(f"body element {lit}")
        atom = lit.atom
        kind = atom.ast_type
        if kind == ASTType.SymbolicAtom:
            pred, args = atom_of(atom)
            self.occurrences.append(Occurrence(pred, args, binding and lit.sign == clingo.ast.Sign.NoSign, scope))
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


def analyse(kb: "KnowledgeBase", indices: dict[int, int] | None = None
             ) -> tuple[list[Analysed], list[clingo.ast.AST], clingo.ast.AST | None]:
    """Every statement's head and body atoms; unknown constructs raise :class:`Unsupported`.

    Facts that *indices* maps to a ``kb.rules`` entry take their head predicate from it
    (reading clingo's AST costs ~5 µs per attribute; the KB has ~600 facts); their
    arguments are left as None and read by :func:`with_head_args` only if needed.
    """
    rules: list[Analysed] = []
    directives: list[clingo.ast.AST] = []
    base: clingo.ast.AST | None = None
    kb_rules = kb.rules
    for index, stmt in enumerate(kb.statements):
        j = indices.get(index) if indices else None
        if j is not None:
            r = kb_rules[j]
            name, _, arity = r.head.rpartition("/")
            if r.is_fact and name and r.text.startswith(name):
                rules.append(Analysed(index, stmt, (name, int(arity)), None, ()))
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
            pred, args = atom_of(head.atom)
        body = Body()
        for element in stmt.body:
            kind = element.ast_type
            if kind == ASTType.ConditionalLiteral:
                body.conditional(element)
            elif kind == ASTType.Literal:
                body.literal(element, 0, True, known=True)
            else:
                raise Unsupported(f"body element {element}")
        rules.append(Analysed(index, stmt, pred, args, tuple(body.occurrences)))
    return rules, directives, base


def with_head_args(r: Analysed) -> Analysed:
    """*r* with its head arguments read (facts are analysed without them, see :func:`analyse`)."""
    if r.head_args is not None:
        return r
    return dataclasses.replace(r, head_args=atom_of(r.stmt.head.atom)[1])


def case_dependent(kb: "KnowledgeBase", rules: list[Analysed]) -> set[Sig]:
    """The ``%input`` predicates and, to a fixpoint, every head whose body mentions one of them."""
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


def static_model(base: clingo.ast.AST | None, rules: list[Analysed],
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


def rule_indices(kb: "KnowledgeBase") -> dict[int, int]:
    """statement index -> index in kb.rules (kb.rules skips directives and unannotated statements)."""
    out: dict[int, int] = {}
    j = 0
    for index, stmt in enumerate(kb.statements):
        if j < len(kb.rules) and stmt.ast_type == ASTType.Rule and str(stmt) == kb.rules[j].text:
            out[index] = j
            j += 1
    return out
