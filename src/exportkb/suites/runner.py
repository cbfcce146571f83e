"""Regression suites: load case files with `expect:`, solve them in batches, compare, report.

One runner for the pytest plugin (:mod:`exportkb.suites.plugin`) and for
``exportkb test`` (:mod:`exportkb.cli.test`), so both read cases, apply
``expect.as_of`` and ``reform:``, and print failures the same way.

Cases are solved together — one :meth:`Solver.determine_many` per engine and
per combination of reforms — never one solver per case. With the engine
``both``, every case is also solved by the pyDatalog translation of the KB and
a difference in the shown atoms fails the case, naming the first differing atom.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import clingo

from ..solve.determination import Determination
from ..errors import ExportKBError
from .expect import Mismatch, compare
from ..kb import KnowledgeBase
from ..case.loader import CASE_SUFFIXES, iter_case_paths, load_case, redated
from ..case.loader import as_of as loader_as_of
from ..case.model import Case
from ..solve.laws import ReadyCase, ready
from ..solve.solver import Solver

ENGINES = ("clingo", "pydatalog", "both")
PROOF_DEPTH = 4  # levels of a proof printed under a failing case (the full proof: `exportkb explain`)
CASE_FILE_SUFFIXES = tuple(".case" + s for s in CASE_SUFFIXES)  # *.case.yaml, *.case.yml, *.case.json


def is_case_file_name(name: str) -> bool:
    """``x.case.yaml`` / ``.case.yml`` / ``.case.json``: collected by pytest anywhere."""
    return name.lower().endswith(CASE_FILE_SUFFIXES)


# ------------------------------------------------------------------ loading
@dataclass
class LoadedSuite:
    cases: list[Case]
    errors: list[str]  # one message per bad file (file, field, value, fix)
    skipped: list[Path]  # case files without `expect:` (not regression cases)
    refused: list[Path] = field(default_factory=list)  # expected input errors, confirmed (NAME.expected.txt)


def expected_error(path: Path) -> list[str] | None:
    """The fragments the loader's message must contain when *path* is an input-error case, else None.

    An input-error case is a case file ``NAME.EXT`` with a sidecar ``NAME.expected.txt`` next to it: each
    non-blank line is a fragment of the error message (field, value, fix) — the convention of tests/cases/bad/.
    """
    sidecar = path.with_name(path.stem + ".expected.txt")
    if not sidecar.is_file():
        return None
    return [line for line in sidecar.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_suite(paths: Iterable[str | Path], kb: KnowledgeBase, ignore: Iterable[str | Path] = ()) -> LoadedSuite:
    """Load every case file under *paths* except those under *ignore*; collect all errors
    rather than stopping at the first.

    A file with a ``NAME.expected.txt`` sidecar must be *refused*: it counts as confirmed when the
    loader's message contains every line of the sidecar, and is an error otherwise."""
    suite = LoadedSuite([], [], [])
    ignored = [Path(p).resolve() for p in ignore]
    for f in iter_case_paths(paths):
        r = f.resolve()
        if any(r == i or i in r.parents for i in ignored):
            continue
        fragments = expected_error(f)
        try:
            case = load_case(f, kb)
        except ExportKBError as exc:
            if fragments is None:
                suite.errors.append(str(exc))
            else:
                missing = [x for x in fragments if x not in str(exc)]
                if missing:
                    suite.errors.append(f"{f}: refused, but the message lacks {missing[0]!r} "
                                        f"(from {f.stem}.expected.txt); the message was: {exc}")
                else:
                    suite.refused.append(f)
            continue
        if fragments is not None:
            suite.errors.append(f"{f}: expected an input error ({f.stem}.expected.txt) but the file loads "
                                "(fix: correct the sidecar, or remove it if the file is a valid case)")
            continue
        if case.expect:
            suite.cases.append(case)
        else:
            suite.skipped.append(f)
    return suite


def as_of(case: Case) -> dt.date | None:
    """The date of ``expect.as_of``, if the case sets one (:func:`exportkb.case.loader.as_of`)."""
    return loader_as_of(case)


def prepared(case: Case) -> Case:
    """The case as it is to be solved: re-dated to ``expect.as_of`` when given (:func:`exportkb.case.loader.redated`)."""
    return redated(case)


# ------------------------------------------------------------------ running
@dataclass
class Outcome:
    """The result of one regression case under one engine setting."""

    case: Case
    engine: str
    determination: Determination | None = None
    mismatches: list[Mismatch] = field(default_factory=list)
    disagreement: str | None = None  # the engines' first differing atom (engine "both")
    error: str | None = None
    seconds: float = 0.0

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        return "failed" if self.mismatches or self.disagreement else "passed"

    @property
    def name(self) -> str:
        return self.case.case

    @property
    def source(self) -> str:
        return self.case.source or "<data>"


class Runner:
    """Solves regression cases in batches; one per session (keeps the solvers and the explainer)."""

    def __init__(self, kb: KnowledgeBase, engine: str = "clingo"):
        if engine not in ENGINES:
            raise ExportKBError(f"unknown engine {engine!r} (fix: use one of {', '.join(ENGINES)})")
        from ..solve.laws import ReformCache

        self.kb = kb
        self.engine = engine
        self._laws = ReformCache(kb)
        self._explainers: dict[int, object] = {}

    def ready(self, case: Case) -> ReadyCase:
        """The case as every command solves it (:func:`exportkb.solve.laws.ready`), with this run's reform cache."""
        return ready(case, self.kb, self._laws)

    def run(self, cases: Sequence[Case]) -> list[Outcome]:
        """Outcomes in input order. Cases sharing a combination of reforms share one batch."""
        outcomes: list[Outcome | None] = [None] * len(cases)
        groups: dict[tuple[str, ...], list[tuple[int, ReadyCase]]] = {}
        for i, c in enumerate(cases):
            try:
                r = self.ready(c)
            except ExportKBError as exc:
                outcomes[i] = Outcome(c, self.engine, error=str(exc))
                continue
            groups.setdefault(r.reforms, []).append((i, r))
        for names, members in groups.items():
            batch = [cases[i] for i, _ in members]
            try:
                results = self._run_batch(members[0][1].kb, batch, [r.case for _, r in members])
            except ExportKBError as exc:
                results = [Outcome(c, self.engine, error=str(exc)) for c in batch]
            for (i, _), o in zip(members, results):
                outcomes[i] = o
        return outcomes  # type: ignore[return-value]

    def _run_batch(self, kb: KnowledgeBase, batch: list[Case], todo: list[Case]) -> list[Outcome]:
        engines = ["clingo", "pydatalog"] if self.engine == "both" else [self.engine]
        dets: dict[str, list[Determination]] = {}
        took: dict[str, float] = {}
        for name in engines:
            start = time.perf_counter()
            dets[name] = list(_engine(name, kb).determine_many(todo))
            took[name] = time.perf_counter() - start
        per_case = sum(took.values()) / max(1, len(batch))
        out: list[Outcome] = []
        for i, case in enumerate(batch):
            det = dets[engines[0]][i]
            o = Outcome(case, self.engine, det, compare(_comparable(case.expect), det), seconds=per_case)
            if self.engine == "both":
                o.disagreement = first_difference(det.atoms, dets["pydatalog"][i].atoms)
            out.append(o)
        return out

    # -------------------------------------------------------------- failures
    def failure_text(self, o: Outcome) -> str:
        """Expected vs actual for every difference, each followed by its proof (or raw atoms)."""
        if o.error:
            return f"{o.source}: {o.error}"
        lines = [f"{o.source}: case {o.name!r}" + (f" (as of {as_of(o.case)})" if as_of(o.case) else "")
                 + (f" under reforms {', '.join(o.case.reform)}" if o.case.reform else "")]
        if o.disagreement:
            lines.append(f"  engines disagree: {o.disagreement}")
        for m in o.mismatches:
            lines.append(f"  {m.path}:")
            lines.append(f"    expected: {m.expected!r}")
            lines.append(f"    actual:   {m.actual!r}")
            why = self.explain_mismatch(o, m)
            if why:
                lines.extend("      " + line for line in why.rstrip().splitlines())
        return "\n".join(lines)

    def explain_mismatch(self, o: Outcome, m: Mismatch) -> str:
        """The why / why-not behind one differing determination.

        Uses :mod:`exportkb.explain` (proof trees) when it is importable and the case
        runs on the shipped law; otherwise lists the raw atoms behind the determination.
        Kept in one function so the explanation backend can be swapped.
        """
        goals = _goals(self.kb, o, m)
        if goals:
            try:
                from ..explain import Explainer  # another module of this package; optional at run time
                r = self.ready(o.case)  # the same law and date the case was solved under
                if id(r.kb) not in self._explainers:
                    self._explainers[id(r.kb)] = Explainer(r.kb)
                ex = self._explainers[id(r.kb)].case(r.case)
                return "\n".join(ex.explain(g).render("text", PROOF_DEPTH).rstrip() for g in goals)
            except ImportError:
                pass
            except Exception as exc:  # an explanation must never hide the failure itself
                return _raw_atoms(o, m) + f"\n(no proof: {type(exc).__name__}: {exc})"
        return _raw_atoms(o, m)


def _engine(name: str, kb: KnowledgeBase):
    if name == "clingo":
        return Solver(kb)
    from ..engines import PyDatalogEngine
    return PyDatalogEngine(kb)


def _comparable(expect: dict | None) -> dict | None:
    """The expectations to compare (``as_of`` is an instruction, not an expectation)."""
    if not expect:
        return expect
    return {k: v for k, v in expect.items() if k != "as_of"}


def first_difference(left: Sequence[str], right: Sequence[str]) -> str | None:
    """The first atom (in sorted order) that only one engine derived, or None when they agree."""
    a, b = set(left), set(right)
    diff = sorted(a ^ b)
    if not diff:
        return None
    atom = diff[0]
    return f"{atom} derived by {'clingo only' if atom in a else 'pydatalog only'} ({len(diff)} atom(s) differ)"


_ITEM_GOALS = {"license_required": "license_required", "license_required_enforced": "license_required",
               "presumption_of_denial": "presumption_of_denial"}


def _goals(kb: KnowledgeBase, o: Outcome, m: Mismatch) -> list[clingo.Symbol]:
    """The determination atoms (without case id) that a mismatch is about."""
    parts = m.path.split(".")[1:]
    det = o.determination
    if det is None or not parts:
        return []
    S, F = clingo.String, clingo.Function
    key = parts[0]
    want = (o.case.expect or {}).get(key)
    if key in ("red_flags", "red_flags_include"):
        return [F("red_flag", [F(x.lower())]) for x in _differing(key, [w.upper() for w in want or []], det.red_flags)]
    if key in ("obligations", "obligations_include"):
        return [F("case_obligation", [F(x)]) for x in _differing(key, want, det.obligations)]
    if len(parts) < 2 or key not in det.items:
        return []
    item, field_ = S(key), parts[1]
    it = det.items[key]
    want = (o.case.expect or {}).get(key, {}).get(field_)
    if field_ in _ITEM_GOALS:
        return [F(_ITEM_GOALS[field_], [item])]
    if field_.startswith("requirements"):
        return [F("license_requirement", [item, F(r)]) for r in _differing(field_, want, [r.id for r in it.requirements])]
    if field_.startswith("exceptions"):
        ids = {name.upper(): x for x, (name, _cite) in kb.exception_names.items()}
        return [F("exception_available", [item, F(ids.get(x.upper(), x.lower()))])
                for x in _differing(field_, [w.upper() for w in want or []], it.exceptions_available)]
    if field_.startswith("obligations"):
        return [F("obligation", [item, F(x)]) for x in _differing(field_, want, it.obligations)]
    if field_ == "eccn":
        return [F("classified", [item, S(e)]) for e in (want, it.eccn) if isinstance(e, str)]
    if field_ in ("license_review_policy", "license_review_policy_cite"):
        return [F("license_review_policy", [item, F(p)]) for p in {want if field_ == "license_review_policy" else None,
                                                                      it.review_policy} if p not in (None, "none")]
    return []


def _differing(field_: str, want, have) -> list[str]:
    """The names a set-valued mismatch is about: missing ones for *_include, unwanted present
    ones for *_unavailable / *_exclude, the symmetric difference for an exact set."""
    w, h = set(want or []), set(have or [])
    if field_.endswith("_include"):
        return sorted(w - h)
    if field_.endswith(("_unavailable", "_exclude")):
        return sorted(w & h)
    return sorted(w ^ h)


def _raw_atoms(o: Outcome, m: Mismatch) -> str:
    """The shown atoms of the case that concern the mismatched field (no proof available)."""
    det = o.determination
    if det is None:
        return ""
    parts = m.path.split(".")[1:]
    key = parts[0] if parts else ""
    item = f'"{key}"'
    names = {
        "red_flags": ("red_flag",), "red_flags_include": ("red_flag",), "in_scope": ("out_of_scope",),
        "obligations": ("case_obligation",), "obligations_include": ("case_obligation",),
        "dates": ("date_applies",), "figures": ("figure",),
    }.get(key)
    atoms = []
    for a in det.atoms:
        name, _, rest = a.partition("(")
        args = rest.split(",")
        if names is not None:
            if name in names:
                atoms.append(a)
        elif len(args) > 1 and args[1].rstrip(")") == item:
            atoms.append(a)
    return "atoms behind it: " + (", ".join(atoms) if atoms else "(none derived)")


# ------------------------------------------------------------------ selection
class KeywordExpression:
    """A ``-k`` expression as pytest reads it: words matched case-insensitively as substrings
    of a case's name ("file::case-id"), combined with ``and``, ``or``, ``not`` and parentheses."""

    _TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")

    def __init__(self, text: str):
        self.text = text
        self.tokens = [t for t in self._TOKEN.findall(text) if t.strip()]
        self.pos = 0
        if not self.tokens:
            raise ExportKBError(f"-k {text!r}: empty expression (fix: give a word, e.g. -k aia)")
        self._check()

    def _check(self) -> None:
        self.pos = 0
        self._or("")
        if self.pos != len(self.tokens):
            raise ExportKBError(f"-k {self.text!r}: unexpected {self.tokens[self.pos]!r} "
                                "(fix: combine words with and / or / not and balanced parentheses)")

    def matches(self, name: str) -> bool:
        self.pos = 0
        return self._or(name.lower())

    def _or(self, name: str) -> bool:
        value = self._and(name)
        while self._peek() == "or":
            self.pos += 1
            value = self._and(name) or value
        return value

    def _and(self, name: str) -> bool:
        value = self._not(name)
        while self._peek() == "and":
            self.pos += 1
            value = self._not(name) and value
        return value

    def _not(self, name: str) -> bool:
        if self._peek() == "not":
            self.pos += 1
            return not self._not(name)
        tok = self._peek()
        if tok is None or tok in ("and", "or", ")"):
            raise ExportKBError(f"-k {self.text!r}: expected a word or '(' (fix: check the expression)")
        self.pos += 1
        if tok == "(":
            value = self._or(name)
            if self._peek() != ")":
                raise ExportKBError(f"-k {self.text!r}: missing ')'")
            self.pos += 1
            return value
        return tok.lower() in name

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None


def case_node_name(case: Case) -> str:
    """How a case is named for selection and reports: ``file::case-id``."""
    return f"{case.source}::{case.case}"
