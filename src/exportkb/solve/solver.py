"""Solving: cases in, determinations out — many cases per grounding.

The KB is parsed once (:class:`~exportkb.kb.KnowledgeBase`); each chunk of
cases gets one fresh ``clingo.Control`` holding the KB's AST and the chunk's
facts (added through the backend as symbols), is grounded and solved once.
Every case fact carries the case id, so cases in a chunk never meet. The KB is
stratified, so each case has exactly one answer set; the solver checks this
and names the case when it is not so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

import clingo

from ..case.exact import figure_value
from ..case.facts import case_facts, emit_facts
from ..case.model import Case, case_keys
from ..errors import SolveError
from ..kb.knowledge import KnowledgeBase, python_value
from . import fastclingo
from .watchdog import Watchdog
from .atoms import parse_flat, parse_nested, split_atoms
from .determination import ConditionalException, Determination, Guidance, ItemDetermination, Requirement, ReviewPolicy, iso

DEFAULT_CHUNK = 500


@dataclass
class SolveOptions:
    chunk_size: int = DEFAULT_CHUNK
    time_limit: float | None = 60.0  # seconds per chunk of solving; None: unbounded
    atoms: bool = True  # fill Determination.atoms (raw shown atoms); the batch does not need them

    def __post_init__(self) -> None:
        # 0 used to mean "no limit" by accident (a falsy wait timeout): refuse it, and NaN/inf, by name.
        t = self.time_limit
        if t is not None and not (isinstance(t, (int, float)) and math.isfinite(t) and t > 0):
            raise SolveError(f"time limit {t!r}: give a finite number of seconds greater than 0, or None for "
                             "no limit (fix: e.g. --time-limit 60)")


T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most *size* items (the unit of one grounding), in order."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _first_item(term_text: str, items: dict) -> str | None:
    """The case item a KB term names as its first argument (``finding("chips", ...)`` -> ``chips``), or None."""
    if "(" not in term_text:
        return None
    try:
        sym = clingo.parse_term(term_text)
    except RuntimeError:
        return None
    first = sym.arguments[0] if sym.type == clingo.SymbolType.Function and sym.arguments else None
    if first is not None and first.type == clingo.SymbolType.String and first.string in items:
        return first.string
    return None


class Solver:
    """Determines cases against one knowledge base. Reuse one Solver per process."""

    def __init__(self, kb: KnowledgeBase, options: SolveOptions | None = None,
                 extra_program: str | None = None):
        self.kb = kb
        self.options = options or SolveOptions()
        self.extra_program = extra_program
        self._watchdog = Watchdog()

    # ------------------------------------------------------------------ public
    def determine(self, case: Case) -> Determination:
        # One case: the KB's static part is grounded once per KnowledgeBase and only the
        # residual rules are grounded per case (exportkb.solve.residual); anything the split does
        # not cover (extra_program, unsupported KB, not exactly one answer set) takes the
        # full program, which also words the errors.
        from .residual.run import solve_rows  # late: only a process that determines single cases loads the split
        rows = solve_rows(self, case)
        if rows is not None:
            return self._determination(case, rows)
        return next(iter(self.determine_many([case])))

    def determine_together(self, cases: Sequence[Case]) -> list[Determination]:
        """The determinations of a few cases solved in one grounding of the residual program.

        For small groups (the server's concurrent requests): the residual rules the cases keep
        overlap, so a group costs little more than one case (exportkb.solve.residual.run.solve_rows_many),
        far less than the full program's chunk. Same determinations as :meth:`determine` of each
        (tests/test_residual.py); the full program's chunk when the split does not apply.
        """
        from .residual.run import solve_rows_many  # late, as in determine
        cases = list(cases)
        if len(cases) == 1:
            return [self.determine(cases[0])]
        keys = case_keys(len(cases))
        per_case = solve_rows_many(self, cases, keys)
        if per_case is None:
            return list(self.determine_many(cases))
        return [self._determination(case, rows) for case, rows in zip(cases, per_case)]

    def determine_many(self, cases: Iterable[Case]) -> Iterator[Determination]:
        """Yield one determination per case, in input order, solving chunk by chunk."""
        for chunk in chunked(cases, self.options.chunk_size):
            yield from self._solve_chunk(chunk)

    def models(self, cases: Sequence[Case]) -> list[list[clingo.Symbol]]:
        """The shown atoms of each case's answer set (case id argument = internal key)."""
        keys = case_keys(len(cases))
        return [buckets for buckets in self._solve_raw(cases, keys)]

    # ---------------------------------------------------------------- internal
    def _control(self) -> clingo.Control:
        ctl = clingo.Control(["--warn=none"], logger=lambda code, msg: None)
        self.kb.add_to(ctl)
        if self.extra_program:
            ctl.add("base", [], self.extra_program)
        return ctl

    def _grounded(self, cases: Sequence[Case], keys: Sequence[str], fast: bool) -> clingo.Control:
        """A control holding the KB and the chunk's facts (as symbols, through the backend), grounded."""
        ctl = self._control()
        with ctl.backend() as backend:
            if fast:  # the same facts, raw symbols straight into the backend (see exportkb.solve.fastclingo)
                w = fastclingo.FactWriter(backend)
                S, N, K, A = w.string, w.number, w.constant, w.adder
                for case, key in zip(cases, keys):
                    emit_facts(case, key, S, N, K, A)
            else:
                for case, key in zip(cases, keys):
                    for sym in case_facts(case, key):
                        backend.add_rule([backend.add_atom(sym)])
        ctl.ground([("base", [])])
        return ctl

    def unique_model(self, ctl: clingo.Control, cases: Sequence[Case], keys: Sequence[str],
                      read: Callable[[clingo.Model], T]) -> T:
        """Solve; ``read`` the unique answer set (while it is valid), or blame the case that has none or two.

        Public because the residual split (:mod:`exportkb.solve.residual.run`) grounds its own
        control and hands it here, so both paths share one check, time limit and error message.
        """
        ctl.configuration.solve.models = 2
        found: list[T] = []
        # A synchronous solve, timed out by the solver's watchdog thread (exportkb.solve.watchdog):
        # an asynchronous one costs a thread hand-over per model.
        with self._watchdog.limit(ctl, self.options.time_limit) as hit:
            with ctl.solve(yield_=True) as handle:
                for model in handle:
                    found.append(read(model) if not found else None)  # type: ignore[arg-type]
                interrupted = handle.get().interrupted
        if interrupted or hit():  # past the limit: not even a first model's uniqueness is known
            raise SolveError(f"solving {len(cases)} case(s) exceeded the time limit of "
                             f"{self.options.time_limit} s (first: {cases[0].case!r}); raise it with --time-limit")
        if len(found) != 1:
            self._blame(cases, keys, len(found))
        return found[0]

    def _solve_text(self, cases: Sequence[Case], keys: Sequence[str]) -> str:
        """Ground and solve a chunk; the unique answer set's shown atoms as clingo prints them."""
        return self.unique_model(self._grounded(cases, keys, fast=False), cases, keys, str)

    def _solve_rows(self, cases: Sequence[Case], keys: Sequence[str],
                    texts: bool | None = None) -> list[list[tuple[str, list, str | None]]]:
        """Per case, the shown atoms as (name, argument values, text); argument 0 is the case key.

        ``texts`` (default: ``options.atoms``): whether to give each atom's text, else None.
        """
        texts = self.options.atoms if texts is None else texts
        index = {k: i for i, k in enumerate(keys)}
        rows: list[list[tuple[str, list, str | None]]] = [[] for _ in cases]
        if fastclingo.AVAILABLE:
            reader = fastclingo.AtomReader()

            def read(model: clingo.Model) -> None:
                reader.rows(model, index, rows, texts)

            self.unique_model(self._grounded(cases, keys, fast=True), cases, keys, read)
            return rows
        for atom_text in split_atoms(self._solve_text(cases, keys)):
            name, args = parse_flat(atom_text) or parse_nested(atom_text)
            if args and isinstance(args[0], str):
                i = index.get(args[0])
                if i is not None:
                    rows[i].append((name, args, atom_text))
        return rows

    def _solve_raw(self, cases: Sequence[Case], keys: Sequence[str]) -> list[list[clingo.Symbol]]:
        """Per case, the shown atoms as clingo symbols (for callers that want Symbols)."""
        return [[clingo.parse_term(t) for _, _, t in rows] for rows in self._solve_rows(cases, keys, texts=True)]

    def _blame(self, cases: Sequence[Case], keys: Sequence[str], n: int) -> None:
        """Find the case that has no or several answer sets and say which."""
        if len(cases) > 1:
            for case, key in zip(cases, keys):
                self._solve_raw([case], [key])
        what = "no answer set" if n == 0 else "more than one answer set"
        case = cases[0]
        raise SolveError(f"case {case.case!r} ({case.source or 'no file'}): the knowledge base gives {what}; "
                         "the KB must be stratified with one answer per case — run `exportkb lint`")

    def _solve_chunk(self, chunk: Sequence[Case]) -> list[Determination]:
        keys = case_keys(len(chunk))
        per_case = self._solve_rows(chunk, keys)
        return [self._determination(case, rows) for case, rows in zip(chunk, per_case)]

    # ---------------------------------------------------------------- reading
    def to_determination(self, case: Case, atoms: list[clingo.Symbol]) -> Determination:
        """A determination from a case's shown atoms given as clingo symbols (any engine)."""
        rows = []
        for sym in atoms:
            text = str(sym)
            parsed = parse_flat(text) or (sym.name, [python_value(a) for a in sym.arguments])
            rows.append((parsed[0], parsed[1], text))
        return self._determination(case, rows)

    def _determination(self, case: Case, rows: list[tuple[str, list, str]]) -> Determination:
        kb = self.kb
        items = {it.id: ItemDetermination(id=it.id) for it in case.items}
        det = Determination(case=case.case, date=case.date, in_scope=True, items=items,
                            kb_version=kb.version, source=case.source, regime=case.regime)
        not_enforced: set[tuple[str, str]] = set()
        case_key_text = str(clingo.String(case.case)) if self.options.atoms else ""
        reqs: dict[str, list[str]] = {}
        rp_rows: list[tuple[str, str, str, str]] = []
        req_cites: dict[tuple[str, str], str] = {}
        key_text: str | None = None
        texts: list[str] = []
        keep_atoms = self.options.atoms
        dates, figures = det.dates, det.figures
        # Most frequent names first (date_applies and figure are ~2/3 of a case's atoms);
        # a[0] is the case key, so a case's own arguments start at a[1].
        for name, a, text in rows:
            if keep_atoms and text is not None:
                if key_text is None:
                    key_text = str(clingo.String(a[0]))
                texts.append(text.replace(key_text, case_key_text, 1))
            if name == "date_applies":
                dates[str(a[1])] = _iso(a[2])
            elif name == "figure":  # a figure with several values (e.g. one per party) keeps them all, sorted
                if len(a) == 3:
                    _put_figure(figures, str(a[1]), figure_value(a[2]))
                else:
                    _put_figure(figures.setdefault(str(a[1]), {}), str(a[2]), figure_value(a[3]))
            elif name == "obligation":
                items[a[1]].obligations.append(str(a[2]))
            elif name == "classified":
                items[a[1]].eccn = a[2]
            elif name == "license_requirement":
                reqs.setdefault(a[1], []).append(a[2])
            elif name == "license_required":
                items[a[1]].license_required = True
            elif name == "exception_available":
                items[a[1]].exceptions_available.append(kb.exception_names.get(a[2], (a[2].upper(),))[0])
            elif name == "exception_conditional":
                items[a[1]].exceptions_conditional.append(
                    ConditionalException(kb.exception_names.get(a[2], (a[2].upper(),))[0], str(a[3])))
            elif name == "requirement_not_enforced":
                not_enforced.add((a[1], a[2]))
            elif name == "classification_mismatch":
                items[a[1]].classification_mismatch = f"declared {a[2]}, specs give {a[3]}"
            elif name == "note":
                det.notes.append(str(a[1]))
            elif name == "exception_regime":  # kb/exceptions/pre_ifr.lp
                items[a[1]].exception_regime.setdefault(kb.exception_names.get(a[2], (a[2].upper(),))[0], []).append(str(a[3]))
            elif name == "pending_requirement":  # kb/requirements/transition.lp: in force, binds later
                label, cite = kb.requirement_info.get(str(a[2]), (str(a[2]), ""))
                items[a[1]].pending_requirements.append({"id": str(a[2]), "label": label, "cite": cite,
                                                         "binds_from": _iso(a[3])})
            elif name == "pre_ifr_exception":
                items[a[1]].exceptions_pre_ifr.append(kb.exception_names.get(a[2], (a[2].upper(),))[0])
            elif name == "guidance":  # kb/guidance/: dated BIS guidance, kept apart from requirements
                g_id = str(a[1])
                title, g_date, cite = kb.guidance_docs.get(g_id, ("", 0, ""))
                about = str(a[2])
                det.guidance.append(Guidance(g_id, about, title, _iso(g_date) if g_date else "", cite,
                                             _first_item(about, items)))
            elif name == "presumption_of_denial":
                items[a[1]].presumption_of_denial = True
            elif name == "license_review_policy":
                items[a[1]].review_policy = str(a[2])
            elif name == "review_policy":
                rp_rows.append((a[1], str(a[2]), str(a[3]), str(a[4])))
            elif name == "requirement_cite":
                req_cites[(a[1], str(a[2]))] = str(a[3])
            elif name == "red_flag":
                det.red_flags.append(str(a[1]).upper())
            elif name == "case_obligation":
                det.obligations.append(str(a[1]))
            elif name == "license_undetermined":
                items[a[1]].license_undetermined.append(str(a[2]))
            elif name == "entity_list_review_policy":
                items[a[1]].entity_list_review_policy.append({"policy": str(a[2]), "entry": str(a[3])})
            elif name == "out_of_scope":
                det.in_scope = False
                det.out_of_scope.append(str(a[1]))
            elif name == "not_covered":
                items[a[1]].coverage = "not_covered"
                items[a[1]].coverage_note = (
                    f"outside this knowledge base's coverage: ECCN {a[2]}; the rules encoded here for specific ECCNs "
                    "do not apply to it (the rules for every item subject to the EAR, such as part 746, were applied)")
            elif name == "foreign_license_required":  # kb/foreign/: only in a case of that regime
                items[a[1]].license_required = True
            elif name == "foreign_requirement":
                reqs.setdefault(a[1], []).append(f"{a[2]}:{a[3]}")
            elif name == "foreign_license_unknown":
                items[a[1]].license_undetermined.append(f"{a[2]}_entries_not_encoded")
            elif name == "coverage_unknown":  # kb/coverage.lp: no encoded rule reaches it, never "no licence"
                items[a[1]].license_undetermined.append("eccn_not_covered")
        for item_id, rs in reqs.items():
            for r in sorted(rs):
                label, cite = kb.requirement_info.get(r, (r, ""))
                if r.startswith("cn_mofcom:"):  # kb/foreign/cn_mofcom.lp: the catalogue entry that restricts it
                    label, cite = (f"MOFCOM export licence: restricted technology, Catalogue entry {r.partition(':')[2]}",
                                   "MOFCOM/MOST Catalogue of Technologies Prohibited and Restricted from Export (15 July 2025)")
                cite = req_cites.get((item_id, r), cite)
                items[item_id].requirements.append(Requirement(r, label, cite, (item_id, r) not in not_enforced))
        for item_id, r, policy, src in sorted(set(rp_rows)):
            it = items[item_id]
            it.review_policies.append(ReviewPolicy(r, policy, src, kb.review_sources.get(src, src),
                                                   final=policy == it.review_policy))
        for it in items.values():
            if it.license_undetermined and not it.license_required:
                it.license_required = None  # held, never a silent "no licence" (kb/parties/entity_list.lp)
            it.license_undetermined.sort()
            it.entity_list_review_policy.sort(key=lambda p: (p["entry"], p["policy"]))
            it.exceptions_available.sort()
            it.exceptions_pre_ifr.sort()
            it.pending_requirements.sort(key=lambda p: p["id"])
            it.exception_regime = {k: sorted(v) for k, v in sorted(it.exception_regime.items())}
            it.exceptions_conditional.sort(key=lambda c: (c.exception, c.condition))
            it.obligations.sort()
        det.red_flags.sort()
        det.obligations.sort()
        det.atoms = sorted(texts)
        det.dates = dict(sorted(det.dates.items()))
        # The model's atom order depends on grounding (chunk composition, engine): sort every
        # list and mapping so the JSON of a case never depends on what it was solved with.
        det.notes.sort()
        det.guidance.sort(key=lambda g: (g.id, g.about))
        det.out_of_scope.sort()
        det.figures = {k: dict(sorted(v.items())) if isinstance(v, dict) else v for k, v in sorted(det.figures.items())}
        return det


_ISO: dict[int, str] = {}


def _iso(d: int) -> str:
    """:func:`iso`, memoised: a batch sees the same few rule dates thousands of times."""
    text = _ISO.get(d)
    if text is None:
        text = iso(d)
        if len(_ISO) < 4096:
            _ISO[d] = text
    return text


def _put_figure(target: dict, name: str, value) -> None:
    """Record a figure; a second value for the same name turns it into a sorted list (order-free)."""
    if name not in target:
        target[name] = value
        return
    old = target[name]
    values = old if isinstance(old, list) else [old]
    if value not in values:
        values = sorted(values + [value], key=lambda v: (str(type(v)), v))
    target[name] = values if len(values) > 1 else values[0]
