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
    rows = solve_rows_many(solver, [case], [key])
    return None if rows is None else rows[0]


def solve_rows_many(solver: SolverLike, cases: Sequence["Case"],
                    keys: Sequence[str]) -> list[list[tuple[str, list, str | None]]] | None:
    """Several cases through the residual program in one grounding: per case, its shown atoms.

    Why: clingo's cost of a ground call is mostly per rule (about 20 µs each, whatever the atoms),
    and the residual rules two cases keep overlap almost entirely, so two cases in one control cost
    about 1.25 times one (2026-12-04, the examples: 1 case 8.3 ms, 2 9.8 ms, 4 13.1 ms; the full
    program's chunk of 4 costs ~28 ms). The server's coalescer takes concurrent requests this way.
    None when the split does not apply (as :func:`solve_rows`); soundness: :func:`grounded`.
    """
    if solver.extra_program or not cases:
        return None
    res = residual_when_warm(solver.kb)
    if res is None:
        return None
    ctl = grounded(res, cases, keys)
    index = {k: i for i, k in enumerate(keys)}
    rows: list[list] = [[] for _ in cases]
    if fastclingo.AVAILABLE:
        reader = fastclingo.AtomReader()
        solver.unique_model(ctl, cases, keys, lambda m: reader.rows(m, index, rows, solver.options.atoms))
        return rows
    text = solver.unique_model(ctl, cases, keys, str)
    for atom_text in split_atoms(text):
        name, args = parse_atom(atom_text)  # a nested term is read by clingo
        i = index.get(args[0]) if args and isinstance(args[0], str) else None
        if i is not None:
            rows[i].append((name, args, atom_text))
    return rows


def shown_atoms(res: ResidualProgram, case: "Case", key: str = "#0") -> list[str] | None:
    """The shown atoms of the residual solve of *case* as clingo prints them; None unless exactly one answer set."""
    ctl = grounded(res, [case], [key])
    ctl.configuration.solve.models = 2
    found: list[str] = []
    ctl.solve(on_model=lambda m: found.append(str(m)))
    return split_atoms(found[0]) if len(found) == 1 else None


def grounded(res: ResidualProgram, cases: Sequence["Case"], keys: Sequence[str]) -> clingo.Control:
    """A fresh control with the cases' residual rules, their facts and their static atoms, grounded.

    One case under the key KEY gets its rules specialised to that key. Several share one control
    as the chunked full program's cases do: every case fact carries its own key and the rules are
    the unspecialised ones (a case variable), so cases never meet. The filter runs once over all
    the cases' facts together: it is monotone (more facts, more values per argument, never fewer
    static atoms or rules), so what it keeps for them all is a superset of what each case needs
    (:mod:`.filter`); one pass costs what one case's does (~2.5 ms for 8 cases instead of ~9 ms),
    for a few more rules (282 instead of 262 for the five examples).
    """
    natives = [n for case, key in zip(cases, keys) for n in case_natives(case, key)]
    pairs = res.static_pairs_for(natives)
    kept = res.kept(natives + [n for _, n in pairs])
    ctl = clingo.Control(["--warn=none"], logger=lambda code, msg: None)
    one_keyed = len(keys) == 1 and keys[0] == KEY
    res.add_to(ctl, res.keyed_statements(kept) if one_keyed else res.statements_for([res.rules[i] for i in kept]))
    with ctl.backend() as backend:
        if fastclingo.AVAILABLE:
            w = fastclingo.FactWriter(backend)
            for case, key in zip(cases, keys):
                emit_facts(case, key, w.string, w.number, w.constant, w.adder)
            fastclingo.add_raw_facts(backend, [sym._rep for sym, _ in pairs])
        else:
            for case, key in zip(cases, keys):
                for sym in case_facts(case, key):
                    backend.add_rule([backend.add_atom(sym)])
            for sym, _ in pairs:
                backend.add_rule([backend.add_atom(sym)])
    ctl.ground([("base", [])])
    return ctl
