"""The residual program of a KB: the three parts of the argument put together, built once per KnowledgeBase.

:func:`residual_program` runs the split (:mod:`.split`), the domain analysis
(:mod:`.domains`) and the per-case filter's preparation (:mod:`.filter`) and keeps
the result in a :class:`ResidualProgram`; :func:`residual_for` /
:func:`residual_when_warm` keep one per :class:`~exportkb.kb.KnowledgeBase`
(through :meth:`KnowledgeBase.derived`, so the KB layer does not import this one).
Solving a case with it is :mod:`.run`. The argument as a whole is the docstring of
:mod:`exportkb.solve.residual`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Sequence

import clingo
import clingo.ast

from .domains import KEY, domains_of, keyed_rules
from .filter import Filter, build_filters, case_natives, compile_rules, native_atom, rules_that_can_fire, static_atoms_of
from .split import Sig, Unsupported, analyse, case_dependent, rule_indices, static_model, with_head_args

if TYPE_CHECKING:  # pragma: no cover
    from ...case.model import Case
    from ...kb.knowledge import KnowledgeBase

#: The name under which a KnowledgeBase keeps its residual program (:meth:`KnowledgeBase.derived`).
DERIVED_NAME = "residual"


@dataclass
class ResidualProgram:
    """The case-dependent part of a KB and its static model (see :mod:`exportkb.solve.residual`)."""

    case_dependent: frozenset[Sig]
    statements: tuple[clingo.ast.AST, ...]  # what a per-case Control gets: base, residual rules, directives
    rules: tuple[tuple[int | None, clingo.ast.AST], ...]  # residual rules with their index in kb.rules
    static_atoms: tuple[clingo.Symbol, ...]  # the static part's (unique) answer set
    unfiltered: tuple  # (Symbol, native atom) of the static atoms every case gets
    filters: dict[Sig, Filter] = field(default_factory=dict)
    _wanted: dict[Sig, tuple[int, ...]] = field(default_factory=dict)  # case input positions read per case
    _compiled: tuple = ()  # per residual rule, in dependency order: see filter.compile_rules
    _acyclic: bool = True  # one pass of rules_for in dependency order reaches the fixpoint
    _base: tuple[clingo.ast.AST, ...] = ()  # the `#program base.` statement
    _directives: tuple[clingo.ast.AST, ...] = ()
    _keyed: tuple = ()  # per residual rule: the rule with its case variable replaced by KEY, or None

    # ------------------------------------------------------------ public API
    def static_atoms_for(self, case_facts: Sequence[clingo.Symbol]) -> list[clingo.Symbol]:
        """The static atoms a case with these input facts can use (a superset of those it uses)."""
        return [sym for sym, _ in self.static_pairs_for([native_atom(f) for f in case_facts])]

    def rules_for(self, atoms: Iterable[clingo.Symbol]) -> list[tuple[int | None, clingo.ast.AST]]:
        """The residual rules that can fire given these facts (case facts + the chosen static atoms)."""
        return self._rules_for([native_atom(a) for a in atoms])

    def select(self, case: "Case", key: str = "#0") -> tuple[list[clingo.Symbol], list[tuple[int | None, clingo.ast.AST]]]:
        """For one case: (static atoms to add, residual rules to ground) — the whole per-case filter."""
        natives = case_natives(case, key)
        pairs = self.static_pairs_for(natives)
        return [sym for sym, _ in pairs], self._rules_for(natives + [n for _, n in pairs])

    def statements_for(self, rules: Sequence[tuple[int | None, clingo.ast.AST]]) -> list[clingo.ast.AST]:
        """The statements of a per-case Control: ``#program base.``, *rules*, ``#show``/``#defined``."""
        return [*self._base, *(stmt for _, stmt in rules), *self._directives]

    def keyed_statements(self, positions: Sequence[int]) -> list[clingo.ast.AST]:
        """As :meth:`statements_for`, with each rule specialised to the case key KEY where proven safe."""
        keyed, rules = self._keyed, self.rules
        return [*self._base, *(keyed[i] or rules[i][1] for i in positions), *self._directives]

    def static_pairs_for(self, natives: Sequence[tuple[Sig, tuple]]) -> list:
        """The (Symbol, native atom) pairs of the static atoms a case with these native input facts gets."""
        return static_atoms_of(self.unfiltered, self.filters, self._wanted, natives)

    def kept(self, natives: Iterable[tuple[Sig, tuple]]) -> list[int]:
        """Positions (in :attr:`rules`) of the rules that can fire given these native facts."""
        return rules_that_can_fire(self._compiled, self._acyclic, self.case_dependent, len(self.rules), natives)

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

    def _rules_for(self, natives: Iterable[tuple[Sig, tuple]]) -> list[tuple[int | None, clingo.ast.AST]]:
        return [self.rules[i] for i in self.kept(natives)]


def residual_program(kb: "KnowledgeBase") -> ResidualProgram | None:
    """Split *kb* (see :mod:`exportkb.solve.residual`); None when the split does not apply to it."""
    indices = rule_indices(kb)
    try:
        rules, directives, base = analyse(kb, indices)
        dep = case_dependent(kb, rules)
        residual = [with_head_args(r) for r in rules
                    if (r.head in dep) or (r.head is None and any(o.pred in dep for o in r.body))]
    except Unsupported:
        return None
    chosen = {r.index for r in residual}
    static = [r for r in rules if r.index not in chosen]
    model = static_model(base, static, directives)
    if model is None:
        return None
    domains = domains_of(kb, residual, dep)
    unfiltered, filters, wanted = build_filters(residual, dep, domains, model, directives)
    statements = ([base] if base is not None else []) + [r.stmt for r in residual] + directives
    compiled, acyclic = compile_rules(residual, dep)
    keyed = keyed_rules(residual, dep, domains, KEY)
    return ResidualProgram(
        case_dependent=frozenset(dep),
        statements=tuple(statements),
        rules=tuple((indices.get(r.index), r.stmt) for r in residual),
        static_atoms=tuple(model),
        unfiltered=tuple(unfiltered),
        filters=filters,
        _wanted=wanted,
        _compiled=compiled,
        _acyclic=acyclic,
        _base=(base,) if base is not None else (),
        _directives=tuple(directives),
        _keyed=keyed,
    )


def residual_for(kb: "KnowledgeBase") -> ResidualProgram | None:
    """*kb*'s residual program, built on first use and kept with *kb*; None when the split does not apply."""
    return kb.derived(DERIVED_NAME, residual_program)


def residual_when_warm(kb: "KnowledgeBase", after: int = 20) -> ResidualProgram | None:
    """:func:`residual_for` from the *after*-th request on, None before (unless it is already built).

    Building the split costs ~0.3 s of CPU once and saves ~12 ms per case, so a
    process that determines a handful of cases (``exportkb check case.yaml``) is
    better off without it; a warm one (a service, a notebook, a test loop) gets it
    after *after* cases, losing at most about twice the build's cost overall.
    """
    return kb.derived(DERIVED_NAME, residual_program, after=after)
