"""Solving one case with the residual program: ground its selection, solve, read the shown atoms.

The solver (:class:`exportkb.solve.Solver`) calls :func:`solve_rows` from
``determine``; this module does not import the solver (it sits below it): it
receives the solver and uses its public :meth:`~exportkb.solve.Solver.unique_model`, so
both paths share one check of exactly one answer set, one time limit and one wording
of the errors. :func:`shown_atoms` is the equality tests' entry point
(``tests/test_residual.py`` compares it with the full program).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence, TypeVar

import clingo

from ...case.facts import case_facts, emit_facts
from .. import fastclingo
from ..atoms import parse_atom, split_atoms
from .domains import KEY
from .filter import case_natives
from .program import ResidualProgram, residual_when_warm

if TYPE_CHECKING:  # pragma: no cover
    from ...case.model import Case
    from ...kb.knowledge import KnowledgeBase

T = TypeVar("T")


class SolverLike(Protocol):
    """What :func:`solve_rows` needs of a :class:`~exportkb.solve.Solver`."""

    kb: "KnowledgeBase"
    options: Any  # SolveOptions: .atoms
    extra_program: str | None

    def unique_model(self, ctl: clingo.Control, cases: Sequence["Case"], keys: Sequence[str],
                     read: Callable[[clingo.Model], T]) -> T: ...


def solve_rows(solver: SolverLike, case: "Case", key: str = "#0") -> list[tuple[str, list, str | None]] | None:
    """One case through the residual program: its shown atoms as ``Solver._solve_rows`` gives them.

    None when the split does not apply (an ``extra_program``, a KB the analysis
    does not support) or is not built yet (the first cases of a process, see
    :func:`~exportkb.solve.residual.program.residual_when_warm`): the caller then solves the full program.
    Facts go in and atoms come out exactly as in the solver's chunked path (:mod:`exportkb.solve.fastclingo`
    when available), and the solver's own check of exactly one answer set (with its
    time limit and error messages) is applied.
    """
    if solver.extra_program:
        return None
    res = residual_when_warm(solver.kb)
    if res is None:
        return None
    ctl = grounded(res, case, key)
    rows: list[list] = [[]]
    if fastclingo.AVAILABLE:
        reader = fastclingo.AtomReader()
        read = lambda m: reader.rows(m, {key: 0}, rows, solver.options.atoms)  # noqa: E731
    else:
        read = str
    text = solver.unique_model(ctl, [case], [key], read)
    if fastclingo.AVAILABLE:
        return rows[0]
    for atom_text in split_atoms(text):
        name, args = parse_atom(atom_text)  # a nested term is read by clingo
        if args and args[0] == key:
            rows[0].append((name, args, atom_text))
    return rows[0]


def shown_atoms(res: ResidualProgram, case: "Case", key: str = "#0") -> list[str] | None:
    """The shown atoms of the residual solve of *case* as clingo prints them; None unless exactly one answer set."""
    ctl = grounded(res, case, key)
    ctl.configuration.solve.models = 2
    found: list[str] = []
    ctl.solve(on_model=lambda m: found.append(str(m)))
    return split_atoms(found[0]) if len(found) == 1 else None


def grounded(res: ResidualProgram, case: "Case", key: str) -> clingo.Control:
    """A fresh control with the case's residual rules, its facts and its static atoms, grounded."""
    natives = case_natives(case, key)
    pairs = res.static_pairs_for(natives)
    kept = res.kept(natives + [n for _, n in pairs])
    ctl = clingo.Control(["--warn=none"], logger=lambda code, msg: None)
    res.add_to(ctl, res.keyed_statements(kept) if key == KEY else res.statements_for([res.rules[i] for i in kept]))
    with ctl.backend() as backend:
        if fastclingo.AVAILABLE:
            w = fastclingo.FactWriter(backend)
            emit_facts(case, key, w.string, w.number, w.constant, w.adder)
            fastclingo.add_raw_facts(backend, [sym._rep for sym, _ in pairs])
        else:
            for sym in case_facts(case, key):
                backend.add_rule([backend.add_atom(sym)])
            for sym, _ in pairs:
                backend.add_rule([backend.add_atom(sym)])
    ctl.ground([("base", [])])
    return ctl
