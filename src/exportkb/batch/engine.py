"""Batch determinations over transaction logs: JSONL, CSV or a folder of case files.

Why this shape: solving is cheap per case only when many cases share one
grounding (shared/performance-notes.md). So rows are read in the main process,
grouped in chunks, and each chunk is decoded, validated and solved in one
grounding by a worker process; the worker also formats each result's JSON line
and counts the chunk's summary, so the main process only reads and writes text
(anything more there would be serial work the workers wait for). `kb/` is parsed
once, before the workers are forked. Results come back in input order and are
streamed to the output as chunks finish. A bad row is reported with its line number
into the error stream and skipped; it never stops or corrupts the rest, whatever is
wrong with it (any exception while reading, decoding, validating, solving or
formatting one row becomes that row's error). The workers are our own processes,
one pipe each (not ``multiprocessing.Pool``, which waits forever for a worker the
OOM killer took): the parent knows which chunk each worker holds, sees a worker die
(its sentinel), and stops with :class:`WorkerDied` naming the chunk and its lines.
"""
from __future__ import annotations

import csv
import io
import json
import multiprocessing as mp
import os
import signal
import traceback
from multiprocessing.connection import wait as wait_ready
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol

from ..errors import CaseError, ExportKBError
from ..suites.expect import compare
from ..kb import KnowledgeBase
from ..case.loader import CASE_SUFFIXES, check_utf8_line, decode_json_row, read_document
from ..case.model import Case
from ..solve.laws import ready_from_data
from ..solve.solver import SolveOptions, Solver, chunked
from .outputs import CsvOut, RunFailed

#: CSV column → case field. One CSV row is one transaction line: one item to one
#: ultimate consignee. Documented in docs/batch.md.
CSV_COLUMNS: dict[str, str] = {
    "case": "case", "title": "title", "date": "date", "transaction": "transaction",
    "from": "from", "to": "to", "end_use": "end_use",
    "item_id": "items[0].id", "kind": "items[0].kind", "eccn": "items[0].eccn",
    "quantity": "items[0].quantity", "tpp": "items[0].tpp", "hts": "items[0].hts",
    "performance_density": "items[0].performance_density",
    "designed_for_datacenter": "items[0].designed_for_datacenter",
    "training_operations": "items[0].training_operations", "open_weights": "items[0].open_weights",
    "consignee": "parties[0].id", "consignee_country": "parties[0].country",
    "consignee_headquarters": "parties[0].headquarters",
    "consignee_parent_headquarters": "parties[0].ultimate_parent_headquarters",
    "consignee_government_controlled": "parties[0].government_controlled",
    "consignee_distributor": "parties[0].distributor", "consignee_veu": "parties[0].veu",
    "consignee_name": "parties[0].name", "consignee_street": "parties[0].address.street",
    "consignee_city": "parties[0].address.city", "consignee_postal_code": "parties[0].address.postal_code",
    "consignee_address_country": "parties[0].address.country",
    "lpp_tpp_used": "usage_this_year.lpp_tpp",
    "allocation_tpp_used": "usage_this_year.country_allocation_tpp",
    "aia_tpp_used": "usage_this_year.aia_cumulative_tpp",
}
_BOOL_COLUMNS = {"designed_for_datacenter", "open_weights", "consignee_government_controlled", "consignee_distributor"}


class Row:
    """One input record: where it came from and its raw data (or why it could not be read).

    A JSONL row keeps its line as text (``raw``) until ``data`` or ``error`` is asked for:
    the batch sends the text to a worker process, which decodes it there, so the parent
    process does only I/O (decoding in the parent would serialise a third of the work).
    """

    __slots__ = ("line", "source", "raw", "_data", "_error", "plain_text")

    def __init__(self, line: int, data: Any = None, error: str | None = None, source: str = "",
                 raw: str | None = None):
        self.line, self.source, self.raw = line, source, raw
        self._data, self._error = data, error
        # JSON without a \u escape cannot hold NUL (raw control characters are invalid JSON) nor a
        # lone surrogate: the loader may skip scanning its strings for them.
        self.plain_text = raw is not None and "\\u" not in raw

    def _decode(self) -> None:
        raw, self.raw = self.raw, None
        try:  # strict: non-UTF-8 bytes, a key given twice, over-long numbers, deep nesting refused
            self._data = decode_json_row(raw, self.source)
        except CaseError as exc:
            self._error = str(exc)
        except Exception as exc:  # never let one line stop the batch
            self._error = row_error(self.source, exc)

    @property
    def data(self) -> Any:
        if self.raw is not None:
            self._decode()
        return self._data

    @property
    def error(self) -> str | None:
        if self.raw is not None:
            self._decode()
        return self._error

    def _wire(self) -> tuple:
        """A plain tuple for sending to a worker (cheaper to pickle than an object); undecoded."""
        return (self.line, self.source, self.raw, self._data, self._error)

    def to_wire(self) -> tuple:
        """The row as a plain tuple, undecoded, for another process or machine (:meth:`from_wire`)."""
        return self._wire()

    @classmethod
    def from_wire(cls, wire: tuple) -> "Row":
        line, source, raw, data, error = wire
        return cls(line, data, error, source, raw)

    def __repr__(self) -> str:
        return f"Row(line={self.line}, source={self.source!r}, " + (
            f"raw={self.raw!r})" if self.raw is not None else f"data={self._data!r}, error={self._error!r})")


def row_error(source: str, exc: BaseException) -> str:
    """The error text of one row that failed for an unexpected reason (not a CaseError).

    The batch keeps going; the message names the row and what Python reported, so the row can be
    fixed or the problem reported (a CaseError's own message is used as it is).
    """
    if isinstance(exc, ExportKBError):
        return str(exc)
    if isinstance(exc, RecursionError):
        return f"{source}: nested too deeply to process (fix: a case is a few levels deep; see docs/case-format.md)"
    return (f"{source}: cannot be processed: {type(exc).__name__}: {exc} "
            f"(fix: check this row against docs/case-format.md; if it looks right, report it as a bug)")


class Result:
    """The answer for one row: its output (as a dict and/or as its JSON text) or its error.

    Workers send the JSON text only (a string pickles fast); ``output`` decodes it on demand.
    """

    __slots__ = ("line", "_output", "text", "error")

    def __init__(self, line: int, output: dict[str, Any] | None = None, error: str | None = None,
                 text: str | None = None):
        self.line, self._output, self.error, self.text = line, output, error, text

    @property
    def output(self) -> dict[str, Any] | None:
        if self._output is None and self.text is not None:
            self._output = json.loads(self.text)
        return self._output

    def __repr__(self) -> str:
        return f"Result(line={self.line}, error={self.error!r}, text={self.text!r})"


def result_text(out: dict[str, Any]) -> str:
    """One output row as JSONL text (no newline): the single place the row's JSON is formatted."""
    return json.dumps(out, ensure_ascii=False, sort_keys=False)


@dataclass
class Summary:
    cases: int = 0
    errors: int = 0
    license_required: int = 0
    not_covered: int = 0  # well-formed rows whose ECCN the KB does not cover (determined, never errors)
    license_unknown: int = 0  # rows with an item whose licence requirement is unknown (license_required null)
    expect_failures: int = 0
    by_exception: Counter = field(default_factory=Counter)
    red_flags: Counter = field(default_factory=Counter)
    #: the screening list every row's parties were screened against (``--list``): its file and SHA-256
    list_file: str | None = None
    list_version: str | None = None

    def add(self, out: dict[str, Any]) -> None:
        self.cases += 1
        items = out["items"].values()
        if any(i["license_required"] for i in items):
            self.license_required += 1
        if any(i.get("coverage") == "not_covered" for i in items):
            self.not_covered += 1
        if any(i["license_required"] is None for i in items):
            self.license_unknown += 1
        for i in items:
            for x in i["exceptions_available"]:
                self.by_exception[x] += 1
        for f in out["red_flags"]:
            self.red_flags[f] += 1
        if out.get("expect_mismatches"):
            self.expect_failures += 1

    def merge(self, other: "Summary") -> None:
        """Add the counts of another summary (a worker's, for one chunk)."""
        self.cases += other.cases
        self.errors += other.errors
        self.license_required += other.license_required
        self.not_covered += other.not_covered
        self.license_unknown += other.license_unknown
        self.expect_failures += other.expect_failures
        self.by_exception.update(other.by_exception)
        self.red_flags.update(other.red_flags)

    def to_json(self) -> dict[str, Any]:
        return {"cases": self.cases, "errors": self.errors, "license_required": self.license_required,
                "not_covered": self.not_covered, "license_unknown": self.license_unknown,
                "expect_failures": self.expect_failures, "items_by_exception": dict(sorted(self.by_exception.items())),
                "red_flags": dict(sorted(self.red_flags.items())),
                "list_file": self.list_file, "list_version": self.list_version}


# --------------------------------------------------------------------------- readers
def read_rows(path: Path) -> Iterator[Row]:
    """The records of a JSONL file, a CSV file or a folder of case files.

    Everything that makes the input unusable as a whole — a missing file, an unknown suffix, an
    unreadable file, an unknown CSV column — is raised here, when called, before any row is read:
    so a caller can validate the input before it opens (and would truncate) any output. A problem
    with one row is that row's error, never an exception.
    """
    if path.is_dir():
        return _read_folder(path)
    if not path.exists():
        raise ExportKBError(f"{path}: no such file (fix: give a .jsonl or .csv file, or a folder of case files)")
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".csv"):
        raise ExportKBError(f"{path}: unknown input type '{suffix}' (fix: use .jsonl, .csv, or a folder of .yaml/.json case files)")
    try:
        # surrogateescape, then checked per line (loader.check_utf8_line): a byte that is not UTF-8 is that
        # row's error with its line number, never a silent U+FFFD that changes an id
        fh = path.open(encoding="utf-8", errors="surrogateescape", newline="" if suffix == ".csv" else None)
    except OSError as exc:
        raise ExportKBError(f"{path}: cannot read: {exc.strerror} (fix: check the file's permissions)") from None
    if suffix == ".csv":
        try:
            return _read_csv(path, fh)
        except BaseException:
            fh.close()
            raise
    return _read_jsonl(path, fh)


def folder_entries(path: Path) -> list[tuple[Path, OSError | None]]:
    """Every case file under ``path`` (sorted), and every sub-folder that could not be listed.

    ``os.walk`` with ``onerror``: ``Path.rglob`` skips an unreadable folder silently, which
    would drop its cases without a word.
    """
    entries: list[tuple[Path, OSError | None]] = []

    def failed(exc: OSError) -> None:
        entries.append((Path(exc.filename), exc))

    for root, dirs, files in os.walk(path, onerror=failed):
        dirs.sort()
        for name in files:
            f = Path(root, name)
            if f.suffix.lower() in CASE_SUFFIXES and not f.is_dir():
                entries.append((f, None))
    return sorted(entries, key=lambda e: str(e[0]))


def _read_folder(path: Path) -> Iterator[Row]:
    return folder_rows([(f, None if e is None else e.strerror) for f, e in folder_entries(path)])


def folder_rows(entries: Iterable[tuple[Path, str | None]], first: int = 1) -> Iterator[Row]:
    """The rows of some of a folder's entries (from :func:`folder_entries`; each with the reason its
    sub-folder could not be listed, or None), numbered from ``first``: the whole folder, or one
    partition of it on a distributed worker (:mod:`exportkb.batch.cluster`), read the same way."""
    for n, (f, listing_error) in enumerate(entries, start=first):
        if listing_error is not None:
            yield Row(n, error=f"{f}: cannot list the folder: {listing_error} "
                               f"(fix: check the folder's permissions)", source=str(f))
            continue
        try:
            data, _ = read_document(f)
            yield Row(n, data, source=str(f))
        except OSError as exc:
            yield Row(n, error=f"{f}: cannot read: {exc.strerror} (fix: check the file's permissions)", source=str(f))
        except Exception as exc:  # one unreadable file never stops the batch
            yield Row(n, error=row_error(str(f), exc), source=str(f))


def _read_jsonl(path: Path, fh: io.TextIOBase) -> Iterator[Row]:
    return jsonl_rows(path, fh)


def jsonl_rows(path: Path | str, fh: io.TextIOBase, first: int = 1) -> Iterator[Row]:
    """Rows holding their line's text; decoded (and JSON errors found) when first read, in the worker.

    ``fh``: the file, or one byte range of it (a partition starting at line ``first``), opened as
    :func:`read_rows` opens it (UTF-8, surrogateescape, universal newlines)."""
    with fh:
        for n, line in enumerate(fh, start=first):
            if not line.strip():
                continue
            yield Row(n, source=f"{path}:{n}", raw=line)


def _read_csv(path: Path, fh: io.TextIOBase) -> Iterator[Row]:
    """Reads and checks the header now; returns the rows' iterator. Each bad row is one error row."""
    reader = csv.DictReader(fh)
    try:
        fieldnames = reader.fieldnames or []
    except csv.Error as exc:
        raise ExportKBError(f"{path}:1: the header row cannot be read: {exc} (fix: one row of column names)") from None
    check_utf8_line(",".join(fieldnames), f"{path}:1")  # the header: the whole file is unusable
    unknown = [c for c in fieldnames if c not in CSV_COLUMNS]
    if unknown:
        raise ExportKBError(f"{path}: unknown CSV column(s) {', '.join(unknown)} "
                            f"(fix: rename; accepted: {', '.join(CSV_COLUMNS)})")
    return _csv_records(path, fh, reader, len(fieldnames))


def csv_partition_rows(path: Path | str, fh: io.TextIOBase, fieldnames: list[str], first: int) -> Iterator[Row]:
    """The rows of one byte range of a CSV file that starts at a record boundary on line ``first``
    (after the header, whose ``fieldnames`` were checked by :func:`read_rows`): the same rows, line
    numbers and errors as reading the whole file. ``fh`` is opened as read_rows opens a CSV file."""
    return _csv_records(Path(path), fh, csv.DictReader(fh, fieldnames=fieldnames), len(fieldnames), first - 1)


def _csv_records(path: Path, fh: io.TextIOBase, reader: csv.DictReader, width: int,
                 offset: int = 0) -> Iterator[Row]:
    with fh:
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # a cell over the size limit, a NUL ...: the reader resumes after it
                n = offset + reader.reader.line_num  # DictReader's own line_num is updated only on success
                yield Row(n, error=f"{path}:{n}: cannot read the row: {exc} "
                                   f"(fix: keep cells under {csv.field_size_limit():,} characters, without NUL)",
                          source=f"{path}:{n}")
                continue
            n = offset + reader.line_num
            if None in row:  # DictReader puts the cells beyond the header under the key None
                extra = len(row[None])  # type: ignore[index]
                yield Row(n, error=f"{path}:{n}: {width + extra} cells, but the header names {width} columns "
                                   f"(fix: remove the extra cell(s), or quote a cell that contains a comma)",
                          source=f"{path}:{n}")
                continue
            try:
                check_utf8_line("".join(v for v in row.values() if isinstance(v, str)), f"{path}:{n}")
                yield Row(n, csv_row_to_case(row, n), source=f"{path}:{n}")
            except CaseError as exc:
                yield Row(n, error=str(exc), source=f"{path}:{n}")
            except Exception as exc:
                yield Row(n, error=row_error(f"{path}:{n}", exc), source=f"{path}:{n}")


def csv_row_to_case(row: dict[str, str], line: int) -> dict[str, Any]:
    """Map one CSV row onto the case format (empty cells are omitted)."""
    data: dict[str, Any] = {}
    for col, value in row.items():
        if value is None or value == "":
            continue
        target = CSV_COLUMNS[col]
        if col in _BOOL_COLUMNS:
            value = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}.get(value.strip().lower(), value)
        _set_path(data, target, value)
    data.setdefault("case", f"line-{line}")
    if "items" in data:
        data["items"][0].setdefault("id", "item")
    if "parties" in data:
        party = data["parties"][0]
        party.setdefault("id", "consignee")
        party.setdefault("role", "ultimate_consignee")
        if "address" in party and "country" in party:  # the address is where the party is located
            party["address"].setdefault("country", party["country"])
    return data


def _set_path(data: dict, path: str, value: Any) -> None:
    parts = path.replace("[0]", ".0").split(".")
    cur: Any = data
    for i, part in enumerate(parts[:-1]):
        nxt_is_index = parts[i + 1] == "0"
        if part == "0":
            continue
        if part not in cur:
            cur[part] = [{}] if nxt_is_index else {}
        cur = cur[part][0] if nxt_is_index else cur[part]
    cur[parts[-1]] = value


# --------------------------------------------------------------------------- solving
#: Cases per grounding when --chunk is not given: with one process, big chunks amortise the
#: set-up of a grounding; with several, smaller ones give every worker work early and keep the
#: last chunk (the tail nobody shares) short.
DEFAULT_CHUNK, DEFAULT_CHUNK_PARALLEL = 1000, 500

_WORKER: dict[str, Any] = {}  # per-process state of a worker: its KB and Solver (parsed once)
_PRELOADED: dict[str, Any] = {}  # the parent's KB, inherited by forked workers (no second parse)


def _init_worker(kb_path: str | None, time_limit: float | None, proofs: str) -> None:
    kb = _PRELOADED.get("kb") if _PRELOADED.get("path") == kb_path else None
    kb = kb or KnowledgeBase.load(kb_path)
    _WORKER["kb"] = kb
    _WORKER["solver"] = _batch_solver(kb, time_limit)
    _WORKER["proofs"] = proofs
    _WORKER["screener"] = _PRELOADED.get("screener")  # built once in the parent, inherited by the fork


def batch_solver(kb: KnowledgeBase, time_limit: float | None) -> Solver:
    """The solver every batch worker uses (local processes and distributed workers alike)."""
    return _batch_solver(kb, time_limit)


def solve_chunk(rows: list[Row], kb: KnowledgeBase, solver: Solver, proofs: str,
                box: dict, screener: Any = None) -> tuple[list[Result], Summary]:
    """One chunk as a worker solves it: results carrying their JSON text only, and the chunk's summary.

    ``box`` is the worker's per-process cache (reforms, proof tables), kept between chunks. The
    distributed backend calls this, so its rows are solved by exactly the code of the local batch.
    ``screener``: an :class:`exportkb.screening.Screener` (``--list``): every row's parties are
    screened and the hits handed to the determination exactly as ``check --list`` does.
    """
    return _solve_chunk(rows, kb, solver, proofs, box, keep_dicts=False, screener=screener)


def _batch_solver(kb: KnowledgeBase, time_limit: float | None) -> Solver:
    # atoms=False: a batch row never shows the raw atoms, so the solver does not build them.
    return Solver(kb, SolveOptions(chunk_size=10**9, time_limit=time_limit, atoms=False))


def _solve_chunk_in_worker(wire: list[tuple]) -> tuple[list[tuple[int, str | None, str | None]], Summary]:
    """Worker side: rows in as tuples, (line, JSON text, error) out plus the chunk's summary."""
    rows = [Row(line, data, error, source, raw) for line, source, raw, data, error in wire]
    results, summary = _solve_chunk(rows, _WORKER["kb"], _WORKER["solver"], _WORKER["proofs"],
                                    _WORKER.setdefault("box", {}), keep_dicts=False, screener=_WORKER.get("screener"))
    return [(r.line, r.text, r.error) for r in results], summary


def solve_rows(rows: list[Row], kb: KnowledgeBase, solver: Solver, proofs: str = "none",
               _explainer: dict | None = None) -> list[Result]:
    """Validate and solve one chunk in one grounding; bad rows become error results.

    ``proofs``: ``none``, ``failed`` (cases whose `expect:` fails) or ``all``.
    """
    return _solve_chunk(rows, kb, solver, proofs, _explainer if _explainer is not None else {})[0]


def _solve_chunk(rows: list[Row], kb: KnowledgeBase, solver: Solver, proofs: str, box: dict,
                 keep_dicts: bool = True, screener: Any = None) -> tuple[list[Result], Summary]:
    """One chunk: decode, validate, solve in one grounding, format each row's JSON, count.

    Everything per case happens here (in the worker), so the parent only reads and writes text.
    """
    summary = Summary()
    results: list[Result | None] = [None] * len(rows)
    pending: list[tuple[int, Case, dict]] = []
    good = []
    reformed: dict[int, tuple[str, ...]] = {}  # row index -> the reforms of its `reform:` list
    laws = _laws(box, solver)
    for idx, row in enumerate(rows):
        source = row.source or f"line {row.line}"
        try:
            error = row.error
            if error is None:
                r = ready_from_data(row.data, kb, source=source, text_checked=row.plain_text, laws=laws)
                case = r.case if screener is None else _screened(screener, r.case)
                good.append((idx, case))  # re-dated to expect.as_of; under its reform: law (r.reforms)
                if r.reforms:
                    reformed[idx] = r.reforms
                continue
        except Exception as exc:  # CaseError, or anything else one row can cause: that row's error
            error = row_error(source, exc)
        results[idx] = Result(row.line, error=error)
    outs: list[tuple[int, dict]] = []
    if good:
        dets: list[Any] = [None] * len(good)
        groups: dict[tuple[str, ...], list[int]] = {}  # rows under the same law share one grounding
        for k, (idx, _) in enumerate(good):
            groups.setdefault(reformed.get(idx, ()), []).append(k)
        for names, ks in groups.items():
            slv = laws.solver(names) if names else solver
            try:
                for k, det in zip(ks, slv.determine_many([good[k][1] for k in ks])):
                    dets[k] = det
            except Exception:  # isolate: solve one by one to find the culprit
                for k in ks:
                    try:
                        dets[k] = slv.determine(good[k][1])
                    except Exception as exc1:
                        dets[k] = exc1
        for (idx, case), det in zip(good, dets):
            source = rows[idx].source or f"line {rows[idx].line}"
            try:
                if isinstance(det, Exception):
                    raise det
                out = det.to_json()
                out["line"] = rows[idx].line
                if case.expect:
                    out["expect_mismatches"] = [str(m) for m in compare(case.expect, det)]
            except Exception as exc:
                results[idx] = Result(rows[idx].line, error=row_error(source, exc))
                continue
            outs.append((idx, out))
            if proofs == "all" or (proofs == "failed" and out.get("expect_mismatches")):
                pending.append((idx, case, out))
    if pending:
        from ..explain.attach import attach_proofs  # proofs are built only when asked

        by_law: dict[tuple[str, ...], list[tuple[int, Case, dict]]] = {}  # proofs on the law each row was solved under
        for entry in pending:
            by_law.setdefault(reformed.get(entry[0], ()), []).append(entry)
        failed = set()
        for names, group in by_law.items():
            law, law_box = (laws.kb_for(names), box.setdefault(("law", names), {})) if names else (kb, box)
            try:
                attach_proofs(law, law_box, [(case, out) for _, case, out in group])
            except Exception:  # isolate: one case's proof must not cost the chunk its proofs
                for idx, case, out in group:
                    out.pop("proofs", None)
                    try:
                        attach_proofs(law, law_box, [(case, out)])
                    except Exception as exc:
                        failed.add(idx)
                        source = rows[idx].source or f"line {rows[idx].line}"
                        results[idx] = Result(rows[idx].line, error=row_error(source, exc))
        outs = [(idx, out) for idx, out in outs if idx not in failed]
    for idx, out in outs:
        summary.add(out)
        results[idx] = Result(rows[idx].line, out if keep_dicts else None, text=result_text(out))
    summary.errors = len(rows) - len(outs)
    return results, summary  # type: ignore[return-value]


def _screened(screener: Any, case: Case) -> Case:
    """*case* with its parties' hits on the run's list (the screening extra, imported only with --list)."""
    from ..screening.cases import screened_case

    return screened_case(screener, case)


def _laws(box: dict, solver: Solver):
    """The chunk's reform cache (kept in the worker's box): each combination of reforms named by rows'
    `reform:` lists is applied once per process, solved with the batch solver's options."""
    if "_laws" not in box:
        from ..solve.laws import ReformCache

        box["_laws"] = ReformCache(solver.kb, solver.options)
    return box["_laws"]


class Backend(Protocol):
    """Where a batch runs when it does not run in this machine's processes (e.g.
    :class:`exportkb.batch.cluster.DaskBackend`): it solves every row with :func:`solve_chunk`
    and calls ``on_result`` in input order, exactly as :func:`run_batch` does locally."""

    def run(self, rows: Any, *, kb_path: str | None, chunk: int | None, time_limit: float | None, proofs: str,
            on_result: Callable[[Result], None], on_progress: Callable[[int], None] | None,
            list_file: str | None = None, list_version: str | None = None) -> Summary: ...


def run_batch(rows: Iterable[Row], *, kb_path: str | None = None, jobs: int = 1, chunk: int | None = None,
              time_limit: float | None = 300.0, proofs: str = "none",
              on_result: Callable[[Result], None], on_progress: Callable[[int], None] | None = None,
              backend: Backend | None = None, screener: Any = None) -> Summary:
    """Solve every row; call ``on_result`` for each, in input order, as chunks finish.

    ``chunk`` (cases per grounding) defaults to :data:`DEFAULT_CHUNK` with one process and
    :data:`DEFAULT_CHUNK_PARALLEL` with several. ``backend``: run elsewhere (``jobs`` is then
    ignored; the backend's workers are the processes); ``rows`` may then also be what the
    backend reads itself (:func:`exportkb.batch.cluster.split_input`: byte ranges of a file).
    ``screener`` (:class:`exportkb.screening.Screener`, built once from ``--list``): every row's
    parties are screened; the summary names the list file and its SHA-256. A backend is given the
    list's path and SHA-256 and builds its own on each worker (refusing a file with another SHA-256).
    """
    list_file = screener.slist.path if screener is not None else None
    list_version = screener.slist.sha256 if screener is not None else None
    if backend is not None:
        extra = {"list_file": list_file, "list_version": list_version} if screener is not None else {}
        got = backend.run(rows, kb_path=str(kb_path) if kb_path else None, chunk=chunk, time_limit=time_limit,
                          proofs=proofs, on_result=on_result, on_progress=on_progress, **extra)
        got.list_file, got.list_version = list_file, list_version
        return got
    summary = Summary(list_file=list_file, list_version=list_version)
    if chunk is None:
        chunk = DEFAULT_CHUNK if jobs <= 1 else DEFAULT_CHUNK_PARALLEL

    def consume(results: list[Result], part: Summary) -> None:
        summary.merge(part)
        for res in results:
            on_result(res)
        if on_progress:
            on_progress(len(results))

    kb_arg = str(kb_path) if kb_path else None
    kb = KnowledgeBase.load(kb_arg)  # parsed once here; forked workers inherit it
    if jobs <= 1:
        solver = _batch_solver(kb, time_limit)
        box: dict = {}
        for ch in chunked(rows, chunk):
            consume(*_solve_chunk(ch, kb, solver, proofs, box, screener=screener))
        return summary
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    if screener is not None and ctx.get_start_method() != "fork":
        raise ExportKBError("--list with --jobs > 1 needs the fork start method (fix: --jobs 1, or --backend dask)")
    _PRELOADED.update(path=kb_arg, kb=kb, screener=screener)
    pool = _Pool(ctx, jobs, (kb_arg, time_limit, proofs))
    try:
        for triples, part in pool.imap_ordered(chunked(rows, chunk)):
            consume([Result(line, text=text, error=error) for line, text, error in triples], part)
        pool.close()
    finally:
        pool.kill()
        _PRELOADED.clear()
    return summary


class WorkerDied(RunFailed):
    """A worker process died (killed by the OOM killer, say) or failed while solving a chunk."""


def _worker_main(conn: Any, init_args: tuple) -> None:
    """A worker: receive (chunk number, rows) on its pipe, send back (number, results, failure).

    SIGINT is ignored: Ctrl-C reaches the whole process group, and the parent (which stops the
    workers) decides what an interrupt means. The parent's ends of the pipes that a forked worker
    inherited are closed, so that each worker sees end-of-file, and exits, when the parent is gone.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler (it would raise here)
    for end in _PRELOADED.get("parent_ends", ()):
        end.close()
    _init_worker(*init_args)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        number, wire = task
        try:
            reply = (number, _solve_chunk_in_worker(wire), None)
        except Exception as exc:  # the whole chunk failed (rows are isolated, so not a row's fault)
            reply = (number, None, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        try:
            conn.send(reply)
        except OSError:  # the parent is gone (killed): nobody to answer, exit quietly
            return


class _Worker:
    __slots__ = ("process", "conn", "chunk")

    def __init__(self, process: Any, conn: Any):
        self.process, self.conn = process, conn
        self.chunk: tuple[int, int, int] | None = None  # (chunk number, first line, last line) in hand


class _Pool:
    """Worker processes with one pipe each; chunks are solved in parallel and yielded in input order.

    At most ``2 × jobs`` chunks are read ahead of the one being written, so memory is bounded by
    the chunk size, not the log. The parent waits on every busy worker's pipe and process sentinel
    at once, so a worker that dies is seen at once (multiprocessing.Pool would wait for ever).
    """

    def __init__(self, ctx: Any, jobs: int, init_args: tuple):
        self.workers: list[_Worker] = []
        ends: list[Any] = []
        _PRELOADED["parent_ends"] = ends
        for _ in range(jobs):
            parent, child = ctx.Pipe()
            ends.append(parent)
            proc = ctx.Process(target=_worker_main, args=(child, init_args), daemon=True)
            proc.start()
            child.close()
            self.workers.append(_Worker(proc, parent))
        self.window = 2 * jobs

    def imap_ordered(self, chunks: Iterable[list[Row]]) -> Iterator[tuple[list[tuple], Summary]]:
        it = iter(chunks)
        idle = list(reversed(self.workers))
        busy: list[_Worker] = []
        done: dict[int, tuple[list[tuple], Summary]] = {}
        next_in = next_out = 1
        exhausted = False
        while True:
            while idle and not exhausted and next_in - next_out < self.window:
                ch = next(it, None)
                if ch is None:
                    exhausted = True
                    break
                w = idle.pop()
                w.chunk = (next_in, ch[0].line, ch[-1].line)
                try:
                    w.conn.send((next_in, [row._wire() for row in ch]))
                except OSError:
                    self._died(w)
                busy.append(w)
                next_in += 1
            if next_out in done:
                yield done.pop(next_out)
                next_out += 1
                continue
            if not busy:
                return
            ready = set(wait_ready([w.conn for w in busy] + [w.process.sentinel for w in busy]))
            for w in list(busy):
                if w.conn in ready or (w.process.sentinel in ready and w.conn.poll()):
                    try:
                        number, payload, failure = w.conn.recv()
                    except (EOFError, OSError):
                        self._died(w)
                    if failure is not None:
                        raise WorkerDied(f"a worker failed while solving {self._where(w)}: "
                                         f"{failure.strip()} (fix: report this as a bug, with the chunk's lines)")
                    done[number] = payload
                    w.chunk = None
                    busy.remove(w)
                    idle.append(w)
                elif w.process.sentinel in ready:
                    self._died(w)

    @staticmethod
    def _where(w: _Worker) -> str:
        number, first, last = w.chunk or (0, 0, 0)
        return f"chunk {number} (lines {first}–{last})"

    def _died(self, w: _Worker) -> None:
        w.process.join(1)
        code = w.process.exitcode
        if code is not None and code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exit code {code}"
        raise WorkerDied(f"worker process {w.process.pid} died ({how}) while solving {self._where(w)}; "
                         f"no output was written (fix: if it ran out of memory, use a smaller --chunk or fewer --jobs)")

    def close(self) -> None:
        """Ask every worker to finish (end of input)."""
        for w in self.workers:
            try:
                w.conn.send(None)
            except OSError:
                pass
        for w in self.workers:
            w.process.join(5)

    def kill(self) -> None:
        """Stop every worker that is still running (an interrupt, a dead sibling, an error)."""
        for w in self.workers:
            if w.process.is_alive():
                w.process.kill()
        for w in self.workers:
            w.process.join()
            w.conn.close()


# --------------------------------------------------------------------------- writers
CSV_OUT_COLUMNS = ["line", "case", "date", "item", "eccn", "license_required", "license_required_enforced",
                   "requirements", "exceptions_available", "exceptions_conditional", "presumption_of_denial", "license_review_policy",
                   "license_review_policy_cite", "obligations", "red_flags",
                   "in_scope", "expect_mismatches"]


def csv_rows(out: dict[str, Any]) -> Iterator[list[Any]]:
    """Flatten one case result into CSV rows (one per item)."""
    for item_id, it in out["items"].items():
        held = it["license_required"] is None  # not determined (kb/parties/entity_list.lp): never an empty cell
        yield [out.get("line", ""), out["case"], out["date"], item_id, it["eccn"] or "",
               "unknown" if held else it["license_required"],
               it["license_required_enforced"], ";".join(r["id"] for r in it["requirements"]),
               ";".join(it["exceptions_available"]),
               ";".join(f'{c["exception"]}:{c["condition"]}' for c in it.get("exceptions_conditional", [])),
               it["presumption_of_denial"], it["license_review_policy"] or "",
               it["license_review_policy_cite"] or "", ";".join(it["obligations"]),
               ";".join(out["red_flags"]), out["in_scope"], ";".join(out.get("expect_mismatches", []))]


class Writer:
    """Streams results to a file (or stdout) as JSONL or CSV.

    CSV cells that a spreadsheet would run as formulas (an id such as ``=HYPERLINK(...)``) are
    neutralised (:mod:`exportkb.batch.outputs`); every other row is written byte for byte as before.
    """

    def __init__(self, fh: io.TextIOBase, fmt: str):
        self.fh, self.fmt = fh, fmt
        self._csv = CsvOut(fh) if fmt == "csv" else None
        if self._csv:
            self._csv.writerow(CSV_OUT_COLUMNS)

    def write(self, out: dict[str, Any]) -> None:
        if self._csv:
            self._csv.writerows(csv_rows(out))
        else:
            self.fh.write(result_text(out) + "\n")

    def write_result(self, res: Result) -> None:
        """Write a good row; JSONL uses the text the worker formatted (no decode, no re-encode)."""
        if self._csv or res.text is None:
            self.write(res.output)  # type: ignore[arg-type]
        else:
            self.fh.write(res.text + "\n")
