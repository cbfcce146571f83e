"""Small helpers over clingo's AST: variables of a term, substitution, instantiation.

Why a module of its own: the recorder, the proof builder and the why-not
analysis all need to turn a KB literal plus a variable substitution into a
ground clingo symbol. Arithmetic is evaluated by clingo itself
(``clingo.parse_term``), so integer semantics are clingo's, not Python's.
"""
from __future__ import annotations

import re
from typing import Mapping

import clingo
import clingo.ast as A

T = A.ASTType


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_VAR = re.compile(r"(?<![A-Za-z0-9_'])(_*[A-Z][A-Za-z0-9_']*|_)(?![A-Za-z0-9_'(])")


def variables(node: A.AST, skip_aggregate_elements: bool = False) -> list[str]:
    """The variable names of *node*, in order of first occurrence.

    Read from clingo's own printing of the node (one C call) rather than by
    walking the AST from Python, which costs a foreign call per attribute.
    """
    if skip_aggregate_elements and node.ast_type == T.Literal and node.atom.ast_type in (T.BodyAggregate, T.Aggregate):
        text = " ".join(str(g.term) for g in (node.atom.left_guard, node.atom.right_guard) if g is not None)
    else:
        text = str(node)
    return list(dict.fromkeys(_VAR.findall(_STRING.sub('""', text))))


class _Substituter(A.Transformer):
    def __init__(self, subst: Mapping[str, clingo.Symbol]):
        self.subst = subst

    def visit_Variable(self, node):
        sym = self.subst.get(node.name)
        if sym is None:
            return node
        return A.SymbolicTerm(node.location, sym)


def substitute(node: A.AST, subst: Mapping[str, clingo.Symbol]) -> A.AST:
    """*node* with every variable of *subst* replaced by its value (others stay variables)."""
    return _Substituter(subst)(node)


def evaluate(term: A.AST, subst: Mapping[str, clingo.Symbol]) -> clingo.Symbol:
    """The ground symbol of a term under a substitution (arithmetic evaluated by clingo)."""
    t = term.ast_type
    if t == T.SymbolicTerm:
        return term.symbol
    if t == T.Variable:
        return subst[term.name]
    if t == T.Function and not term.external:
        return clingo.Function(term.name, [evaluate(a, subst) for a in term.arguments])
    return clingo.parse_term(str(substitute(term, subst)))


def compile_term(term: A.AST) -> tuple:
    """A term as plain Python tuples, so instantiating it needs no AST access:
    ("s", symbol) | ("v", name) | ("f", name, args) | ("x", ast) for arithmetic."""
    t = term.ast_type
    if t == T.SymbolicTerm:
        return ("s", term.symbol)
    if t == T.Variable:
        return ("v", term.name)
    if t == T.Function and not term.external:
        return ("f", term.name, tuple(compile_term(a) for a in term.arguments))
    return ("x", term)


def instantiate(c: tuple, subst: Mapping[str, clingo.Symbol]) -> clingo.Symbol:
    """The ground symbol of a compiled term (arithmetic evaluated by clingo)."""
    k = c[0]
    if k == "s":
        return c[1]
    if k == "v":
        return subst[c[1]]
    if k == "f":
        return clingo.Function(c[1], [instantiate(a, subst) for a in c[2]])
    return clingo.parse_term(str(substitute(c[1], subst)))


def substitute_text(text: str, subst: Mapping[str, clingo.Symbol]) -> str:
    """*text* (a literal as clingo prints it) with its variables (outside strings) replaced by values."""
    def one(part: str) -> str:
        return _VAR.sub(lambda m: str(subst[m.group(1)]) if m.group(1) in subst else m.group(1), part)
    parts = _STRING.split(text)
    strings = _STRING.findall(text)
    out = [one(parts[0])]
    for st, part in zip(strings, parts[1:]):
        out += [st, one(part)]
    return "".join(out)
