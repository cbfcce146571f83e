"""The law a case is solved under: each case read the one way every command reads it, and each
combination of reforms applied to the KB once per run, with a solver each.

Why in the solve layer: applying reforms is a KB operation (:func:`exportkb.kb.reforms.apply_reforms`),
but what a run keeps is a :class:`~exportkb.solve.Solver` per combination, and every front end
that solves cases under reforms (what-if, suites, batch, the CLI) sits above this layer. A case's
``reform:`` and ``expect.as_of`` change the answer, so the one loading path (:func:`ready`,
:func:`load_ready`, :func:`ready_from_data`) lives here, beside the cache it uses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..case.loader import case_from_data, line_of, load_case, redated
from ..case.model import Case
from ..case.parties import ListHit, with_hits
from ..errors import CaseError, FieldProblem
from ..kb.knowledge import KnowledgeBase
from ..kb.reforms import ReformError, apply_reforms
from .solver import SolveOptions, Solver


@dataclass
class ReformCache:
    """Applies each combination of reforms once per run (loading overlays re-parses the KB)."""

    kb: KnowledgeBase
    options: SolveOptions | None = None
    folder: Path | None = None
    _solvers: dict[tuple[str, ...], Solver] = field(default_factory=dict)
    _kbs: dict[tuple[str, ...], KnowledgeBase] = field(default_factory=dict)

    def kb_for(self, names: Sequence[str]) -> KnowledgeBase:
        """The KB with *names* applied (the given KB for none), applied once per run."""
        key = tuple(names)
        if key not in self._kbs:
            self._kbs[key] = apply_reforms(self.kb, key, self.folder) if key else self.kb
        return self._kbs[key]

    def solver(self, names: Sequence[str]) -> Solver:
        key = tuple(names)
        if key not in self._solvers:
            self._solvers[key] = Solver(self.kb_for(key), self.options)
        return self._solvers[key]


# --------------------------------------------------------------------------- one loading path
@dataclass(frozen=True)
class ReadyCase:
    """A case as every command solves, explains and verifies it — the one reading of a case file.

    Why one type: ``reform:`` and ``expect.as_of`` change the answer, and each command used to apply
    a different subset of them (``check`` the reforms, ``test`` the date). ``case`` is re-dated to
    ``expect.as_of`` when the case sets it; ``kb`` is the law it is solved under: the given KB with
    the run's reforms, then the case's own ``reform:`` list, applied; ``reforms`` names them in order.
    """

    case: Case
    kb: KnowledgeBase
    reforms: tuple[str, ...] = ()


def ready(case: Case, kb: KnowledgeBase, laws: ReformCache | None = None, reforms: Sequence[str] = (),
          hits: Sequence[ListHit] | None = None) -> ReadyCase:
    """*case* (already validated) made ready to solve: re-dated, and its law resolved.

    *hits*: the screening hits of the case's parties (:class:`exportkb.case.parties.ListHit`, e.g.
    from ``exportkb screen``); given (even empty), the case counts as screened and each hit becomes
    ``screening_hit/5`` with its entry's attributes (kb/parties/entity_list.lp). A hit naming no
    party of the case is a :class:`CaseError` at ``screening[i].party_id``.

    *laws* is a :class:`ReformCache` shared by the cases of one run (applying a
    reform re-parses the KB; a run applies each combination once). A reform name that is not a
    reform of the configured folder is a :class:`CaseError` at ``reform[i]``."""
    if hits is not None:
        case = _screened(case, hits)
    names = tuple(reforms) + tuple(n for n in (case.reform or ()) if n not in reforms)
    law = kb
    if names:
        laws = laws if laws is not None else ReformCache(kb)
        try:
            law = laws.kb_for(names)
        except ReformError as exc:
            raise CaseError([FieldProblem(case.source or "<data>", "reform", str(exc),
                                          "see `exportkb query --list` for the reforms",
                                          line=line_of(case, "reform"))]) from None
    return ReadyCase(redated(case), law, names)


def load_ready(path: str | Path, kb: KnowledgeBase, laws: ReformCache | None = None,
               reforms: Sequence[str] = (), hits: Sequence[ListHit] | None = None) -> ReadyCase:
    """Read, validate and make ready one case file: what every command does with a case file."""
    return ready(load_case(path, kb), kb, laws, reforms, hits)


def _screened(case: Case, hits: Sequence[ListHit]) -> Case:
    """*case* with *hits* added, checked like the ``screening:`` field of a file (party ids, kinds)."""
    from ..case.parties import HIT_KINDS, MATCHED_ON

    party_ids = {p.id for p in case.parties}
    base = len(case.screening or [])
    problems = []
    for i, h in enumerate(hits):
        path = f"screening[{base + i}]"
        if h.party_id not in party_ids:
            problems.append(FieldProblem(case.source or "<data>", f"{path}.party_id", "names no party of this case",
                                         "give the id of a party: " + (", ".join(sorted(party_ids)) or "(none)"),
                                         value=h.party_id, has_value=True))
        if h.kind not in HIT_KINDS:
            problems.append(FieldProblem(case.source or "<data>", f"{path}.kind", "unknown hit kind",
                                         "use one of: " + ", ".join(HIT_KINDS), value=h.kind, has_value=True))
        if h.matched_on not in MATCHED_ON:
            problems.append(FieldProblem(case.source or "<data>", f"{path}.matched_on", "unknown value",
                                         "use one of: " + ", ".join(MATCHED_ON), value=h.matched_on, has_value=True))
    if problems:
        raise CaseError(problems)
    return with_hits(case, hits)


def ready_from_data(data: Any, kb: KnowledgeBase, source: str = "<data>", lines: dict[str, int] | None = None,
                    text_checked: bool = False, laws: ReformCache | None = None) -> ReadyCase:
    """The same for already-parsed data (a batch row): validate, re-date, resolve the law."""
    case = case_from_data(data, kb, source, lines, text_checked)
    if case.reform is None and case.expect is None:  # the batch's common row: no copy, no lookup
        return ReadyCase(case, kb)
    return ready(case, kb, laws)
