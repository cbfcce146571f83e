"""`exportkb lint`: static checks of a knowledge base folder, before any case is solved.

Why: a rules-as-code KB fails quietly. A misspelt predicate in a body is just
false, a rule whose head nobody reads changes nothing, a cycle through `not`
makes the answer depend on the solver. Each check below turns one such silent
failure into a named problem with file and line.

Checks (each problem carries its check name, used by tests/kb_bad/<check>/):

* ``annotation`` — every statement has id, cite, source, reads (``KnowledgeBase.problems``).
* ``undefined`` — a predicate used in a body (or shown) is defined by a head in kb/ or declared ``%input``.
* ``unused`` — a defined predicate is read by some body, shown (``#show``) or declared ``%catalogue``.
* ``input`` — every declared ``%input`` is read by some rule (else a case field changes nothing).
* ``stratification`` — the predicate dependency graph has no cycle through ``not`` or an aggregate.
* ``recursion`` — no cycle at all, except through predicates declared ``%recursive name/arity``.
* ``param`` — every parameter name read via ``param_value(C, Name, V)`` has a ``param(Name, ...)`` row.
* ``country`` — every country code in kb/countries/groups.lp is a ``country/2`` of kb/countries/iso3166.lp.
* ``template`` — every ``{Var}`` of a ``%@`` template is an argument of its predicate.
* ``fragment`` — the pyDatalog engine's fragment check (exportkb.engines), when that engine is installed.

Declarations (comment lines, additive, anywhere in kb/): ``%catalogue name/arity``
for facts the Python layer reads directly; ``%recursive name/arity`` for a
predicate allowed on a positive cycle.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import clingo.ast as A
import networkx as nx

from ..kb import KnowledgeBase

CHECKS = ("annotation", "undefined", "unused", "input", "stratification", "recursion", "param", "country",
          "template", "fragment")

_DECL_RE = re.compile(r"^%(catalogue|recursive)\s+(\w+)/(\d+)\b")
_INPUT_DECL_RE = re.compile(r"^%input\s+(\w+)\(([^)]*)\)")
_SHOW_RE = re.compile(r"^#show\s+(\w+)/(\d+)\s*\.")
_TEMPLATE_VAR_RE = re.compile(r"\{(\w+)\}")
_LOCATION_RE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):")


@dataclass(frozen=True)
class LintProblem:
    """One problem found by one check."""

    check: str
    where: str  # "file:line", or "" when the problem is about the KB as a whole
    message: str

    def __str__(self) -> str:
        return f"{self.where + ': ' if self.where else ''}[{self.check}] {self.message}"


@dataclass(frozen=True)
class Use:
    """A predicate occurring in a rule body (or a #show)."""

    sig: str
    negative: bool  # under `not`, or inside an aggregate (non-monotone for stratification)
    atom: A.AST | None
    where: str


@dataclass
class Program:
    """What the lint needs from the KB: heads, uses, declarations."""

    heads: dict[str, list[str]] = field(default_factory=dict)          # sig -> where defined
    edges: list[tuple[str, str, bool, str]] = field(default_factory=list)  # (head, body, negative, where)
    uses: list[Use] = field(default_factory=list)
    shown: dict[str, str] = field(default_factory=dict)
    facts: list[tuple[A.AST, str]] = field(default_factory=list)       # head atoms of body-less rules
    catalogues: set[str] = field(default_factory=set)
    declared: set[str] = field(default_factory=set)                    # `#defined name/arity`
    input_where: dict[str, str] = field(default_factory=dict)         # `%input` sig -> file:line
    recursive: set[str] = field(default_factory=set)


def lint(kb: KnowledgeBase, with_fragment: bool = True) -> list[LintProblem]:
    """Every problem of *kb*, sorted by check then location."""
    prog = _program(kb)
    problems: list[LintProblem] = []
    problems += [LintProblem("annotation", _where_of(p), _strip_where(p)) for p in kb.problems]
    problems += _undefined(kb, prog)
    problems += _unused(kb, prog)
    problems += _unread_inputs(kb, prog)
    problems += _graph_problems(prog)
    problems += _params(prog)
    problems += _countries(prog)
    problems += _templates(kb, prog)
    if with_fragment:
        problems += _fragment(kb)
    order = {c: i for i, c in enumerate(CHECKS)}
    return sorted(set(problems), key=lambda p: (order.get(p.check, 99), p.where, p.message))


# ---------------------------------------------------------------- reading the program
def _sig_of_atom(atom: A.AST) -> str | None:
    """name/arity of a symbolic atom's term, or None (e.g. classical negation, numbers)."""
    term = atom.symbol
    if term.ast_type == A.ASTType.Function:
        return f"{term.name}/{len(term.arguments)}"
    if term.ast_type == A.ASTType.SymbolicTerm and term.symbol.type.name == "Function":
        return f"{term.symbol.name}/{len(term.symbol.arguments)}"
    return None


def _body_atoms(node: A.AST, negative: bool = False) -> Iterator[tuple[A.AST, bool]]:
    """Symbolic atoms of a body element with their polarity (aggregate elements count as negative)."""
    t = node.ast_type
    if t == A.ASTType.Literal:
        neg = negative or node.sign != A.Sign.NoSign
        if node.atom.ast_type == A.ASTType.SymbolicAtom:
            yield node.atom, neg
        else:
            yield from _body_atoms(node.atom, neg)
        return
    if t in (A.ASTType.BodyAggregate, A.ASTType.Aggregate):
        for elem in node.elements:
            yield from _body_atoms(elem, True)
        return
    if t == A.ASTType.BodyAggregateElement:
        for lit in node.condition:
            yield from _body_atoms(lit, True)
        return
    if t == A.ASTType.ConditionalLiteral:
        yield from _body_atoms(node.literal, negative)
        for lit in node.condition:
            yield from _body_atoms(lit, True)


def _head_atoms(head: A.AST) -> Iterator[A.AST]:
    if head.ast_type == A.ASTType.Literal and head.atom.ast_type == A.ASTType.SymbolicAtom:
        yield head.atom
    for key in ("elements",):  # disjunctions / choices: every element defines its atom
        for elem in getattr(head, key, []) if key in head.child_keys else []:
            lit = elem.literal if "literal" in elem.child_keys else None
            if lit is not None and lit.atom.ast_type == A.ASTType.SymbolicAtom:
                yield lit.atom


def _program(kb: KnowledgeBase) -> Program:
    prog = Program()
    show_where: dict[str, str] = {}
    for f in kb.files:
        rel = _rel(f, kb.root)
        for no, raw in enumerate(f.read_text(encoding="utf-8").splitlines(), start=1):
            m = _DECL_RE.match(raw.strip())
            if m:
                sig = f"{m.group(2)}/{m.group(3)}"
                (prog.catalogues if m.group(1) == "catalogue" else prog.recursive).add(sig)
            i = _INPUT_DECL_RE.match(raw.strip())
            if i:
                arity = len([a for a in i.group(2).split(",") if a.strip()])
                prog.input_where.setdefault(f"{i.group(1)}/{arity}", f"{rel}:{no}")
            s = _SHOW_RE.match(raw.strip())
            if s:
                show_where.setdefault(f"{s.group(1)}/{s.group(2)}", f"{rel}:{no}")
    locations = _locations(kb)
    for stmt in kb.statements:
        where = locations.get(id(stmt), f"line {stmt.location.begin.line}")
        if stmt.ast_type == A.ASTType.ShowSignature:
            sig = f"{stmt.name}/{stmt.arity}"
            prog.shown[sig] = show_where.get(sig, where)
            continue
        if stmt.ast_type == A.ASTType.Defined:
            prog.declared.add(f"{stmt.name}/{stmt.arity}")
            continue
        if stmt.ast_type != A.ASTType.Rule:
            continue
        heads = [a for a in _head_atoms(stmt.head) if _sig_of_atom(a)]
        body = [(a, neg) for lit in stmt.body for a, neg in _body_atoms(lit)]
        for h in heads:
            hs = _sig_of_atom(h)
            prog.heads.setdefault(hs, []).append(where)
            if not stmt.body:
                prog.facts.append((h, where))
        for a, neg in body:
            bs = _sig_of_atom(a)
            if bs is None:
                continue
            prog.uses.append(Use(bs, neg, a, where))
            for h in heads:
                prog.edges.append((_sig_of_atom(h), bs, neg, where))
    return prog


_UNANNOTATED = (A.ASTType.Program, A.ASTType.ShowSignature, A.ASTType.ShowTerm, A.ASTType.Defined,
                A.ASTType.Comment)


def _locations(kb: KnowledgeBase) -> dict[int, str]:
    """file:line of each statement (kb.statements are parsed from text, so the AST has no file name).

    ``kb.rules`` lists the annotated statements in the same order, with file and line.
    """
    index: dict[int, str] = {}
    rules = iter(kb.rules)
    pending = next(rules, None)
    for s in kb.statements:
        if s.ast_type in _UNANNOTATED:
            continue
        if pending is not None and pending.line == s.location.begin.line and pending.text == str(s):
            index[id(s)] = f"{pending.file}:{pending.line}"
            pending = next(rules, None)
    return index


def _rel(f: Path, root: Path) -> str:
    try:
        return str(f.relative_to(root))
    except ValueError:
        return str(f)


def _where_of(text: str) -> str:
    m = _LOCATION_RE.match(text)
    return f"{m.group('file')}:{m.group('line')}" if m else ""


def _strip_where(text: str) -> str:
    m = _LOCATION_RE.match(text)
    return text[m.end():].strip() if m else text


# ---------------------------------------------------------------- checks
def _undefined(kb: KnowledgeBase, prog: Program) -> list[LintProblem]:
    known = set(prog.heads) | set(kb.inputs) | prog.declared
    out = [LintProblem("undefined", u.where, f"{u.sig} is used in a body but defined nowhere in kb/ "
                       "and not declared `%input` (a misspelling is silently false)")
           for u in prog.uses if u.sig not in known]
    out += [LintProblem("undefined", where, f"#show {sig}: the shown predicate is defined nowhere")
            for sig, where in prog.shown.items() if sig not in known]
    return out


def _unused(kb: KnowledgeBase, prog: Program) -> list[LintProblem]:
    read = {u.sig for u in prog.uses} | set(prog.shown) | prog.catalogues
    return [LintProblem("unused", wheres[0], f"{sig} is defined but never read by a rule, #show or "
                        "`%catalogue` declaration (dead code, or a misspelt use elsewhere)")
            for sig, wheres in sorted(prog.heads.items()) if sig not in read]


def _unread_inputs(kb: KnowledgeBase, prog: Program) -> list[LintProblem]:
    read = {u.sig for u in prog.uses} | set(prog.shown)
    return [LintProblem("input", prog.input_where.get(sig, ""),
                        f"%input {sig} is read by no rule: the case field behind it changes no determination")
            for sig in sorted(kb.inputs) if sig not in read]


def dependency_graph(kb: KnowledgeBase) -> nx.DiGraph:
    """Predicate dependency graph: edge head → body predicate, ``negative=True`` through not/aggregates."""
    return _graph(_program(kb))


def _graph(prog: Program) -> nx.DiGraph:
    g = nx.DiGraph()
    for head, body, neg, where in prog.edges:
        if g.has_edge(head, body):
            if neg and not g[head][body]["negative"]:
                g[head][body].update(negative=True, where=where)
        else:
            g.add_edge(head, body, negative=neg, where=where)
    return g


def _graph_problems(prog: Program) -> list[LintProblem]:
    g = _graph(prog)
    out: list[LintProblem] = []
    for comp in nx.strongly_connected_components(g):
        sub = g.subgraph(comp)
        if len(comp) == 1 and not sub.number_of_edges():
            continue
        cycle = ", ".join(sorted(comp))
        neg = [(u, v, d) for u, v, d in sub.edges(data=True) if d["negative"]]
        if neg:
            u, v, d = sorted(neg, key=lambda e: (e[0], e[1]))[0]
            out.append(LintProblem("stratification", d["where"],
                                   f"{u} depends on {v} through `not` or an aggregate inside the cycle {{{cycle}}}: "
                                   "not stratified, the answer is no longer unique"))
        elif not comp <= prog.recursive:
            u, v, d = sorted(sub.edges(data=True), key=lambda e: (e[0], e[1]))[0]
            out.append(LintProblem("recursion", d["where"],
                                   f"recursive predicates {{{cycle}}}: declare each `%recursive name/arity` "
                                   "if the recursion is intended"))
    return out


def _const_name(term: A.AST) -> str | None:
    if term.ast_type == A.ASTType.SymbolicTerm:
        return str(term.symbol)
    if term.ast_type == A.ASTType.Function and not term.arguments:
        return term.name
    return None


def _params(prog: Program) -> list[LintProblem]:
    defined = set()
    for atom, _ in prog.facts:
        if _sig_of_atom(atom) == "param/4":
            name = _const_name(atom.symbol.arguments[0])
            if name:
                defined.add(name)
    out = []
    for u in prog.uses:
        if u.sig == "param_value/3" and u.atom is not None:
            name = _const_name(u.atom.symbol.arguments[1])
            if name and name not in defined:
                out.append(LintProblem("param", u.where, f"parameter {name} is read via param_value but has "
                                       "no param(" + name + ", Value, From, To) row"))
    return out


def _countries(prog: Program) -> list[LintProblem]:
    codes: set[str] = set()
    group_rows: list[tuple[str, str]] = []
    for atom, where in prog.facts:
        sig = _sig_of_atom(atom)
        args = atom.symbol.arguments if atom.symbol.ast_type == A.ASTType.Function else []
        if sig == "country/2" and where.startswith("countries/iso3166.lp"):
            codes.add(_string(args[0]) or "")
        elif where.startswith("countries/groups.lp"):
            for arg in args:
                s = _string(arg)
                if s is not None:
                    group_rows.append((s, where))
    return [LintProblem("country", where, f"country code {code!r} is not in countries/iso3166.lp")
            for code, where in group_rows if code not in codes]


def _string(term: A.AST) -> str | None:
    if term.ast_type == A.ASTType.SymbolicTerm and term.symbol.type.name == "String":
        return term.symbol.string
    return None


def _templates(kb: KnowledgeBase, prog: Program) -> list[LintProblem]:
    out = []
    known = set(prog.heads) | set(kb.inputs) | prog.declared
    for sig, t in sorted(kb.templates.items()):
        missing = sorted(set(_TEMPLATE_VAR_RE.findall(t.text)) - set(t.args))
        if missing:
            out.append(LintProblem("template", t.file, f"template of {sig} names {', '.join('{' + m + '}' for m in missing)}"
                                   f", not an argument of {t.name}({', '.join(t.args)})"))
        if sig not in known:
            out.append(LintProblem("template", t.file, f"template for {sig}, a predicate defined nowhere "
                                   "(wrong arity or name?)"))
    return out


def _fragment(kb: KnowledgeBase) -> list[LintProblem]:
    try:
        from ..engines import fragment_problems
    except ImportError:  # the pyDatalog engine is optional; its absence is not a KB problem
        return []
    return [LintProblem("fragment", _where_of(p), _strip_where(p)) for p in fragment_problems(kb)]
