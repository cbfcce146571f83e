"""Evaluate cases with pyDatalog: the second engine that must agree with clingo.

The KB is translated once (:mod:`exportkb.engines.translate`). A batch of cases
is one fresh pyDatalog program (``pyDatalog.clear()``): the KB's facts and the
cases' facts are asserted, then the derived predicates are evaluated bottom-up,
one component of mutually dependent predicates at a time: its rules are
loaded, pyDatalog answers one query per head predicate, and the rules are then
replaced by the facts they derived (pyDatalog tables subgoals per query only,
so without this every later query would re-derive everything below it).
pyDatalog does all rule evaluation (joins, negation, comparisons, arithmetic,
aggregates); Python only orders the components and turns answers into facts.

pyDatalog keeps its program in global (thread-local) state: each batch starts
from ``clear()`` and clears again at the end, so nothing leaks between batches
or into other code.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Iterator, Sequence

import clingo
from pyDatalog import pyDatalog, pyEngine, pyParser

from ..solve.determination import Determination
from ..case.facts import case_facts
from ..kb import KnowledgeBase
from ..case.model import Case
from ..solve.solver import Solver, chunked
from .fragment import locator
from .translate import BUILTINS, UNIT, Sig, Translation, TranslationError, Value, encode_args, pname, translate

DEFAULT_CHUNK = 200


@lru_cache(maxsize=65536)
def _decode_text(text: str) -> clingo.Symbol:
    return clingo.parse_term(text)


def decode(value: Value) -> clingo.Symbol:
    """A pyDatalog value back to the clingo symbol it encodes (see translate.encode)."""
    if isinstance(value, bool):  # pragma: no cover - never produced by encode
        raise TranslationError(f"unexpected boolean {value!r} from pyDatalog")
    if isinstance(value, int):
        return clingo.Number(value)
    return _decode_text(value)


def _load(program: str) -> None:
    """``pyDatalog.load`` without its caller-globals scan (inspect.stack cost 40 ms a call)."""
    pyParser.load(program, newglobals={})


def _assert_facts(name: str, rows: Iterable[tuple[Value, ...]]) -> None:
    """Assert ground facts through pyDatalog's engine API.

    Same effect as ``pyDatalog.assert_fact(name, *row)`` (a fact clause with
    constant terms), without building and parsing a query object per fact,
    which made fact loading dominate the run time (about 1 ms per fact).
    """
    for row in rows:
        pyEngine.assert_(pyEngine.Clause(pyEngine.Literal(name, [pyEngine.Const(v) for v in row]), []))


@dataclass
class EngineStats:
    strata: int
    rules: int


class PyDatalogEngine:
    """Determines cases with pyDatalog from the same `kb/` as :class:`~exportkb.solve.solver.Solver`."""

    name = "pydatalog"

    def __init__(self, kb: KnowledgeBase, chunk_size: int = DEFAULT_CHUNK):
        self.kb = kb
        self.chunk_size = chunk_size
        self.translation: Translation = translate(kb.statements, locator(kb))
        if self.translation.problems:
            raise TranslationError("the knowledge base is outside the fragment the pyDatalog engine follows:\n  "
                                   + "\n  ".join(self.translation.problems))
        self._reader = Solver(kb)  # only for to_determination: the same reading of shown atoms

    @property
    def stats(self) -> EngineStats:
        return EngineStats(len(self.translation.strata), len(self.translation.rules))

    # ------------------------------------------------------------------ public
    def determine(self, case: Case) -> Determination:
        return next(iter(self.determine_many([case])))

    def determine_many(self, cases: Iterable[Case]) -> Iterator[Determination]:
        for chunk in chunked(cases, self.chunk_size):
            yield from self._chunk(chunk)

    def models(self, cases: Sequence[Case]) -> list[list[clingo.Symbol]]:
        """The shown atoms of each case (case id argument = internal key), like Solver.models."""
        keys = [f"#{n}" for n in range(len(cases))]
        return self._solve_raw(cases, keys)

    # ---------------------------------------------------------------- internal
    def _chunk(self, chunk: Sequence[Case]) -> list[Determination]:
        keys = [f"#{n}" for n in range(len(chunk))]
        buckets = self._solve_raw(chunk, keys)
        return [self._reader.to_determination(c, atoms) for c, atoms in zip(chunk, buckets)]

    def _solve_raw(self, cases: Sequence[Case], keys: Sequence[str]) -> list[list[clingo.Symbol]]:
        facts = [sym for case, key in zip(cases, keys) for sym in case_facts(case, key)]
        atoms = evaluate(self.translation, facts)
        index = {k: i for i, k in enumerate(keys)}
        buckets: list[list[clingo.Symbol]] = [[] for _ in cases]
        for atom in atoms:
            args = atom.arguments
            if args and args[0].type == clingo.SymbolType.String:
                i = index.get(args[0].string)
                if i is not None:
                    buckets[i].append(atom)
        for b in buckets:
            b.sort()
        return buckets


def evaluate(tr: Translation, facts: Iterable[clingo.Symbol]) -> list[clingo.Symbol]:
    """The shown atoms of the translated program plus *facts*, computed by pyDatalog.

    One fresh pyDatalog program (cleared before and after): the KB's and the given
    facts are asserted, then each component's rules are loaded, queried, and replaced
    by the facts they derived.
    """
    store: dict[Sig, set[tuple[Value, ...]]] = {sig: set(rows) for sig, rows in tr.facts.items()}
    for sym in facts:
        store.setdefault((sym.name, len(sym.arguments)), set()).add(encode_args(sym))
    try:
        pyDatalog.clear()
        _load(BUILTINS)
        defined: set[Sig] = set()
        for sig, rows in store.items():
            _assert_facts(pname(sig), rows)
            defined.add(sig)
        for stratum in tr.strata:
            for sig in stratum.reads:
                if sig not in defined:  # make it known (and empty): pyDatalog rejects undefined predicates
                    name, dummy = pname(sig), (UNIT,) * max(1, sig[1])
                    pyDatalog.assert_fact(name, *dummy)
                    pyDatalog.retract_fact(name, *dummy)
                    defined.add(sig)
            _load(stratum.program)
            for sig in stratum.heads:
                query = f"{pname(sig)}({', '.join(f'Q{i}' for i in range(max(1, sig[1])))})"
                answer = pyDatalog.ask(query)
                rows = store.setdefault(sig, set())
                if answer:
                    rows.update(tuple(a) for a in answer.answers)
            # the component is complete: replace its rules by the facts they derived, so that
            # later components read indexed facts instead of re-deriving (pyDatalog tables
            # subgoals per query only)
            for sig in stratum.heads:
                pred = pyEngine.Pred(pname(sig), max(1, sig[1]))
                for clause in list(pred.clauses.values()):
                    pyEngine.retract(clause)
                _assert_facts(pname(sig), store[sig])
                defined.add(sig)
    finally:
        pyDatalog.clear()
    shown = tr.shown if tr.shown is not None else set(store)
    out: list[clingo.Symbol] = []
    for sig in shown:
        for row in store.get(sig, ()):
            out.append(clingo.Function(sig[0], [] if sig[1] == 0 else [decode(v) for v in row]))
    return sorted(out)
