"""What the HTTP server does with a request, as plain library calls (no HTTP here).

Why a layer of its own under the routes: every endpoint must answer exactly what the CLI
answers for the same case — ``check --json``'s object, ``explain --format json``'s proof,
``whatif``'s rows — so each method below is the CLI command's library path
(:func:`exportkb.solve.laws.ready_from_data`, :class:`~exportkb.solve.laws.ReformCache`,
:class:`~exportkb.explain.Explainer`, :func:`exportkb.analysis.whatif.scenarios`), and the routes only
turn bytes into arguments and results into responses. The KB is parsed once, when the service is made.

Trust: a request never names a file, a KB folder or a reform file. A case's ``reform:`` names
resolve only inside the shipped reform folder (:mod:`exportkb.case.reform_names`), the source of
every request case is the fixed label ``<request>``, and every solve and proof runs under a
:class:`~exportkb.budget.Deadline` of the server's per-request time limit.
"""
from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..analysis.whatif import determination_rows, scenarios
from ..budget import Deadline
from ..case.loader import MAX_FILE_BYTES, iter_case_paths, load_case, read_bytes
from ..case.schema import case_schema
from ..errors import ExportKBError
from ..explain import Explainer
from ..explain.goals import check_goal_ids
from ..explain.proof import Proof
from ..kb import KnowledgeBase
from ..solve.determination import Determination
from ..solve.laws import ReadyCase, ReformCache, ready_from_data
from ..solve.solver import SolveOptions
from ..suites.expect import compare
from .coalesce import Coalescer

REQUEST_SOURCE = "<request>"


@dataclass(frozen=True)
class ServerOptions:
    """The limits of one server (see docs: "Web")."""

    max_body_bytes: int = 1024 * 1024        # a request body (a case is a few KB; the loader allows 5 MB files)
    time_limit: float = 10.0                 # seconds of solving and proof building per request
    max_scenarios: int = 400                 # what-if rows per request (the world view is ~200 countries)
    memory_mb: int | None = None             # resident-memory budget checked by proof builders (None: off)
    cases_dir: Path | None = None            # regression cases shown on provision pages (None: the checkout's tests/cases if any)
    examples_dir: Path | None = None         # the form's examples (None: those shipped in the package, or the checkout's)
    screening_list: Path | None = None       # POST /api/screen's list: from `serve --list` / $EXPORTKB_LIST, never a request
    max_parties: int = 1000                  # parties per POST /api/screen


@dataclass
class Service:
    """One KB, its laws under reforms, an explainer per law; the state a running server keeps."""

    kb: KnowledgeBase
    options: ServerOptions = field(default_factory=ServerOptions)

    def __post_init__(self) -> None:
        self.laws = ReformCache(self.kb, SolveOptions(time_limit=self.options.time_limit))
        # clingo controls and the proof caches are not shared between threads: one request solves at a time.
        self.lock = threading.Lock()
        # concurrent `check` requests are solved together when they wait for the solver (exportkb.server.coalesce)
        self.coalescer = Coalescer(self.laws.solver, self.lock)
        self._screeners: dict[float, Any] = {}  # threshold -> Screener over the configured list, built on first use
        self._explainers: dict[int, Explainer] = {}
        self._coverage: dict[str, list[str]] | None = None
        self._regression: dict[str, dict[str, Any]] | None = None

    def screen(self, parties: list[dict[str, Any]], threshold: float | None) -> list[dict[str, Any]]:
        """Screening rows exactly as `exportkb screen --format jsonl` prints them, one per party.

        The list is the server's configured file: a request names parties, never a file."""
        from ..errors import ExportKBError
        from ..screening import DEFAULT_THRESHOLD, Screener, load_list

        if self.options.screening_list is None:
            raise ExportKBError("request: screening is off: the server has no list "
                                "(fix: start it with `exportkb serve --list FILE` or set EXPORTKB_LIST)")
        t = DEFAULT_THRESHOLD if threshold is None else threshold
        with self.lock:
            screener = self._screeners.get(t)
            if screener is None:
                screener = self._screeners[t] = Screener.build(load_list(self.options.screening_list), t)
            return [screener.screen(**p).to_json() for p in parties]

    # ------------------------------------------------------------------ reading a case
    def read(self, raw: bytes, as_json: bool) -> ReadyCase:
        """A request body (a case as JSON or YAML) read as the CLI reads a case file."""
        if len(raw) > min(self.options.max_body_bytes, MAX_FILE_BYTES):
            raise ExportKBError(f"{REQUEST_SOURCE}: the case is {len(raw):,} bytes; a request may carry at most "
                                f"{self.options.max_body_bytes:,} (fix: send a smaller case, or use `exportkb batch`)")
        data, lines = read_bytes(raw, REQUEST_SOURCE, as_json=as_json)
        return self.ready_data(data, lines)

    def ready_data(self, data: Any, lines: dict[str, int] | None = None) -> ReadyCase:
        """Already-parsed case data validated and made ready (re-dated, named reforms applied)."""
        return ready_from_data(data, self.kb, REQUEST_SOURCE, lines, laws=self.laws)

    def deadline(self) -> Deadline:
        return Deadline(self.options.time_limit, self.options.memory_mb, what="the request")

    # ------------------------------------------------------------------ answers
    def determine(self, r: ReadyCase) -> Determination:
        return self.coalescer.determine(r)

    def close(self) -> None:
        """Stop the solver thread (the app's shutdown)."""
        self.coalescer.close()

    def submit(self, r: ReadyCase) -> "Future[Determination]":
        """The determination of *r* as a future (solved with whatever else waits; see :meth:`check_json`)."""
        return self.coalescer.submit(r)

    def check(self, r: ReadyCase) -> dict[str, Any]:
        """Exactly the object ``exportkb check --json`` prints for this case."""
        return self.check_json(r, self.determine(r))

    def check_json(self, r: ReadyCase, det: Determination) -> dict[str, Any]:
        """``check --json``'s object for *r* from its determination (expectations compared)."""
        js = det.to_json()
        if r.case.expect:
            js["expect_mismatches"] = [str(m) for m in compare(r.case.expect, det)]
        return js

    def explainer(self, r: ReadyCase, deadline: Deadline) -> Explainer:
        ex = self._explainers.get(id(r.kb))
        if ex is None:
            ex = self._explainers[id(r.kb)] = Explainer(r.kb)
        ex.deadline = deadline
        return ex

    def explain(self, r: ReadyCase, goal: str | None, mode: str = "auto", item: str | None = None,
                depth: int | None = None) -> list[Proof]:
        """The proofs ``exportkb explain`` builds: one for *goal*, or one per determination."""
        check_goal_ids(r, item, goal)  # the CLI's own refusal of an item or party the case does not have
        deadline = self.deadline()
        with self.lock:
            session = self.explainer(r, deadline).case(r.case)
            if goal:
                return [session.explain(goal, mode=mode, item=item, depth=depth)]
            return session.determinations()

    def whatif(self, r: ReadyCase, axes: dict[str, Any]) -> list[dict[str, Any]]:
        """``exportkb whatif`` rows: one per scenario x item, the axes' values first."""
        if not isinstance(axes, dict) or not axes:
            raise ExportKBError(f"{REQUEST_SOURCE}: axes: give at least one axis, e.g. {{\"to\": \"ALL\"}} "
                                "(fix: an object of field -> list of values)")
        pairs = []
        for n, pair in enumerate(scenarios(r.case, r.kb, axes)):
            if n >= self.options.max_scenarios:
                raise ExportKBError(f"{REQUEST_SOURCE}: axes: more than {self.options.max_scenarios} scenarios "
                                    "(fix: vary fewer values per request, or use `exportkb whatif`)")
            pairs.append(pair)
        with self.lock:
            solver = self.laws.solver(r.reforms)
            dets = list(solver.determine_many([c for _, c in pairs]))
        rows = []
        for (values, _), det in zip(pairs, dets):
            for row in determination_rows(det, values):
                row["date"] = row["date"].isoformat()
                rows.append(row)
        return rows

    # ------------------------------------------------------------------ the KB
    def provisions(self) -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        for rule in self.kb.rules:
            e = seen.setdefault(rule.id, {"id": rule.id, "cite": rule.cite, "reads": rule.reads, "source": rule.source,
                                          "file": rule.file, "line": rule.line, "statements": 0})
            e["statements"] += 1
        return list(seen.values())

    def provision(self, rule_id: str) -> dict[str, Any] | None:
        rules = self.kb.rules_by_id.get(rule_id)
        if not rules:
            return None
        first = rules[0]
        return {"id": rule_id, "cite": first.cite, "reads": first.reads, "source": first.source, "file": first.file,
                "line": first.line, "statements": [{"line": r.line, "text": r.text, "is_fact": r.is_fact} for r in rules],
                "cases": self.coverage().get(rule_id, [])}

    def cases_dir(self) -> Path | None:
        """The regression cases the provision pages cite: the configured folder, else the checkout's
        ``tests/cases`` beside the KB. A wheel ships no cases, so an installed server shows none unless
        started with ``--cases`` (a page then says so instead of listing nothing silently)."""
        if self.options.cases_dir is not None:
            return self.options.cases_dir
        guess = self.kb.root.parent / "tests" / "cases"
        return guess if guess.is_dir() else None

    def examples_dir(self) -> Path | None:
        """The example cases the form offers: the configured folder, else the ones the wheel ships
        (``exportkb/examples``), else a source checkout's ``examples/`` — found from the package, not
        from the KB's folder, so that ``--kb`` elsewhere or an installed wheel still has them."""
        if self.options.examples_dir is not None:
            return self.options.examples_dir
        package = Path(__file__).resolve().parents[1]          # .../exportkb
        for guess in (package / "examples", package.parents[1] / "examples", self.kb.root.parent / "examples"):
            if guess.is_dir() and any(guess.glob("*.yaml")):
                return guess
        return None

    def coverage(self) -> dict[str, list[str]]:
        """Rule id -> the regression cases in which it fires (computed once, on first use)."""
        if self._coverage is None:
            folder = self.cases_dir()
            fired: dict[str, set[str]] = {}
            if folder is not None:
                from ..suites.provisions import coverage
                with self.lock:
                    fired = coverage(self.kb, [folder])
            self._coverage = {k: sorted(v) for k, v in fired.items()}
        return self._coverage

    def regression_case(self, case_id: str) -> dict[str, Any] | None:
        """A regression case by its id (the server's own files, never a path from the request)."""
        if self._regression is None:
            found: dict[str, dict[str, Any]] = {}
            folder = self.cases_dir()
            if folder is not None:
                for p in iter_case_paths([folder]):
                    if "bad" in p.parts or p.suffix not in (".yaml", ".yml"):
                        continue
                    try:
                        c = load_case(p, self.kb)
                    except ExportKBError:
                        continue
                    found[c.case] = {"id": c.case, "title": c.title or "", "path": str(p.relative_to(folder)),
                                     "text": p.read_text(encoding="utf-8")}
            self._regression = found
        return self._regression.get(case_id)

    def schema(self) -> dict[str, Any]:
        return case_schema(self.kb)
