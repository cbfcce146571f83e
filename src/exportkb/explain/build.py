"""Shared machinery for building proof graphs: node ids, atoms as people read them,
plain English from the KB's ``%@`` templates, rule annotations, case fields.

No English is written here: statements come from the templates in kb/; when a
predicate has no template, the atom itself is shown.
"""
from __future__ import annotations

import re
from typing import Any

import clingo
import clingo.ast as A
import networkx as nx

from dataclasses import dataclass

from ..kb import TEMPLATE_FILTERS, TEMPLATE_PLACEHOLDER_RE, KnowledgeBase
from .fields import field_ref, list_ref
from .record import RecordedModel, RecordingProgram, RuleInfo

T = A.ASTType
_BARE = re.compile(r"^[a-z][A-Za-z0-9_]*$")


#: Template variables that hold dates (integers YYYYMMDD in kb/); shown as YYYY-MM-DD (kb/README.md).
DATE_VARIABLES = frozenset({"D", "From", "To"})


def _as_date(value: Any) -> str | None:
    """An integer YYYYMMDD as an ISO date (99991231: open-ended), or None if it is not one."""
    if isinstance(value, clingo.Symbol) and value.type == clingo.SymbolType.Number:
        n = value.number
        if 19000101 <= n <= 99991231 and 1 <= n // 100 % 100 <= 12 and 1 <= n % 100 <= 31:
            return "(open-ended)" if n == 99991231 else f"{n // 10000:04d}-{n // 100 % 100:02d}-{n % 100:02d}"
    return None


def _is_constant(value: Any) -> bool:
    """A clingo constant such as ``lpp``: the only kind of value a ``{V:filter}`` placeholder rewrites."""
    return (isinstance(value, clingo.Symbol) and value.type == clingo.SymbolType.Function
            and not value.arguments and bool(value.name))


@dataclass(frozen=True)
class Pattern:
    """An atom some of whose arguments are unknown (``None``), e.g. party_role(C, ?, ultimate_consignee)."""

    name: str
    args: tuple[clingo.Symbol | str, ...]  # a str is the name of an unknown (a variable of the KB literal)

    @property
    def ground(self) -> bool:
        return all(isinstance(a, clingo.Symbol) for a in self.args)

    def symbol(self) -> clingo.Symbol:
        return clingo.Function(self.name, list(self.args))  # type: ignore[arg-type]

    @property
    def signature(self) -> str:
        return f"{self.name}/{len(self.args)}"


def _parts(term: "clingo.Symbol | A.AST | Pattern") -> tuple[str, list[Any]]:
    """Name and arguments of a symbol, a pattern or an AST term (arguments stay symbols, names or AST)."""
    if isinstance(term, Pattern):
        return term.name, list(term.args)
    if isinstance(term, clingo.Symbol):
        return term.name, list(term.arguments)
    if term.ast_type == T.SymbolicTerm:
        return term.symbol.name, list(term.symbol.arguments)
    return term.name, [a.symbol if a.ast_type == T.SymbolicTerm else a for a in term.arguments]


class ProofBuilder:
    """Accumulates one proof graph; a node per distinct statement (shared sub-proofs are one node)."""

    def __init__(self, kb: KnowledgeBase, program: RecordingProgram, model: RecordedModel,
                 cache: dict | None = None):
        self.kb = kb
        self.program = program
        self.model = model
        self.case = model.case
        self.graph = nx.DiGraph()
        self._ids: dict[tuple, str] = {}
        self._cache = cache if cache is not None else {}  # atom -> attrs, shared by the proofs of one case
        self._key_text = str(clingo.String(model.key))
        self._case_text = str(clingo.String(model.case.case))

    def _rekey_text(self, text: str) -> str:
        return text.replace(self._key_text, self._case_text)

    # ---------------------------------------------------------------- graph
    def node(self, key: tuple, **attrs: Any) -> tuple[str, bool]:
        """The node for *key*, created with *attrs* if new. Returns (id, created)."""
        nid = self._ids.get(key)
        if nid is not None:
            return nid, False
        nid = f"n{len(self._ids)}"
        self._ids[key] = nid
        self.graph.add_node(nid, **attrs)
        return nid, True

    def link(self, parent: str, child: str, order: int, role: str, literal: str | None = None) -> None:
        attrs: dict[str, Any] = {"order": order, "role": role}
        if literal is not None:
            attrs["literal"] = literal
        self.graph.add_edge(parent, child, **attrs)

    # ---------------------------------------------------------------- text
    def display_arg(self, a: clingo.Symbol | A.AST) -> str:
        if isinstance(a, clingo.Symbol):
            if a.type == clingo.SymbolType.String:
                s = self.case.case if a.string == self.model.key else a.string
                return s
            return self._rekey_text(str(a))
        if isinstance(a, str):
            return f"<{a.lstrip('_')}>"
        if a.ast_type == T.Variable:
            return f"<{a.name.lstrip('_')}>"
        return str(a)

    def _is_key(self, a: Any) -> bool:
        return isinstance(a, clingo.Symbol) and a.type == clingo.SymbolType.String and a.string == self.model.key

    def display(self, term: clingo.Symbol | A.AST) -> str:
        """The atom as a user writes a goal: no case id, identifiers bare (``exception_available(gpus, lpp)``)."""
        name, args = _parts(term)
        if args and self._is_key(args[0]):
            args = args[1:]
        out = []
        for a in args:
            if isinstance(a, clingo.Symbol) and a.type == clingo.SymbolType.String:
                out.append(a.string if _BARE.match(a.string) else '"' + a.string.replace('"', '\\"') + '"')
            else:
                out.append(self.display_arg(a))
        return f"{name}({', '.join(out)})" if out else name

    def full(self, term: clingo.Symbol | A.AST) -> str:
        """The atom as clingo text with the case id (what the checker grounds)."""
        if isinstance(term, clingo.Symbol):
            return self._rekey_text(str(term))
        if isinstance(term, Pattern):
            args = [self._rekey_text(str(a)) if isinstance(a, clingo.Symbol) else a for a in term.args]
            return f"{term.name}({','.join(args)})" if args else term.name
        return self._rekey_text(str(term))

    def statement(self, term: clingo.Symbol | A.AST) -> str:
        """Plain English from the predicate's ``%@`` template (the atom itself if there is none).

        ``{V}`` shows the argument; ``{V:filter}`` shows a constant argument through
        ``kb.TEMPLATE_FILTERS`` (``{X:upper}``: lpp -> LPP) — see the syntax in kb.py's docstring.
        """
        name, args = _parts(term)
        tpl = self.kb.templates.get(f"{name}/{len(args)}")
        if tpl is None:
            return self.display(term)
        values = dict(zip(tpl.args, args))

        def fill(m: re.Match) -> str:
            var_name, flt = m.group(1), m.group(2)
            if var_name not in values:
                return m.group(0)
            a = values[var_name]
            shown = _as_date(a) if var_name in DATE_VARIABLES else None
            how = TEMPLATE_FILTERS.get(flt) if flt else None  # an unknown filter is a KB problem (lint)
            if shown is None and how is not None and _is_constant(a):
                shown = how(a.name)
            return shown or self.display_arg(a)
        return TEMPLATE_PLACEHOLDER_RE.sub(fill, tpl.text)

    def atom_attrs(self, term: clingo.Symbol | A.AST) -> dict[str, Any]:
        got = self._cache.get(term)
        if got is None:
            got = self._cache[term] = {"atom": self.full(term), "display": self.display(term),
                                       "statement": self.statement(term)}
        return dict(got)

    @staticmethod
    def rule_attrs(info: RuleInfo) -> dict[str, Any]:
        r = info.rule
        if r is None:
            return {"id": "", "cite": "", "source": "", "reads": "", "file": "", "line": None}
        return {"id": r.id, "cite": r.cite, "source": r.source, "reads": r.reads, "file": r.file, "line": r.line,
                "text": r.text}

    def case_fact_node(self, atom: clingo.Symbol) -> str:
        """The node of an atom stated by the case file, with the field (path, file, line) it comes from."""
        nid, new = self.node(("fact", atom), kind="case_fact", holds=True, **self.atom_attrs(atom))
        if new:
            fld = self.field_attrs(atom)
            if fld:
                self.graph.nodes[nid]["field"] = fld
            lst = self.list_attrs(atom)
            if lst:
                self.graph.nodes[nid]["list"] = lst
        return nid

    def kb_fact_node(self, atom: clingo.Symbol, info: Any) -> str:
        """The node of a fact of kb/, citing the statement (*info*: its RuleInfo) that states it."""
        nid, _ = self.node(("fact", atom), kind="kb_fact", holds=True, **self.atom_attrs(atom),
                           rule=self.rule_attrs(info))
        return nid

    def subst_attrs(self, subst: dict[str, clingo.Symbol]) -> dict[str, str]:
        return {k: self._rekey_text(str(v)) for k, v in subst.items()}

    def field_attrs(self, sym_or_term: clingo.Symbol | A.AST) -> dict[str, Any] | None:
        name, args = _parts(sym_or_term)
        if args and self._is_key(args[0]):
            args = args[1:]
        ref = field_ref(self.case, name, [a if isinstance(a, clingo.Symbol) else None for a in args])
        return ref.to_json() if ref else None

    def list_attrs(self, sym: clingo.Symbol) -> dict[str, str] | None:
        """The screening list (file, SHA-256, entry) a screening fact of the case comes from, if any."""
        name, args = _parts(sym)
        if args and self._is_key(args[0]):
            args = args[1:]
        return list_ref(self.case, name, [a if isinstance(a, clingo.Symbol) else None for a in args])

    def literal_text(self, lit: A.AST) -> str:
        return str(lit)
