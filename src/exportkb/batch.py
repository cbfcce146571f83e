"""Batch determinations over transaction logs: JSONL, CSV or a folder of case files.

Why this shape: solving is cheap per case only when many cases share one
grounding (shared/performance-notes.md). So rows are read in the main process,
grouped in chunks, and each chunk is validated and solved in one grounding by a
worker process that parsed `kb/` once at start-up. Results come back in input
order (``imap``) and are streamed to the output as chunks finish. A bad row is
reported with its line number into the error stream and skipped; it never
stops or corrupts the rest.
"""
from __future__ import annotations

import csv
import io
import json
import multiprocessing as mp
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .errors import CaseError, ExportKBError
from .expect import compare
from .kb import KnowledgeBase
from .loader import CASE_SUFFIXES, case_from_data, read_document
from .model import Case
from .solver import SolveOptions, Solver, chunked

#: CSV column → case field. One CSV row is one transaction line: one item to one
#: ultimate consignee. Documented in docs/batch.md.
CSV_COLUMNS: dict[str, str] = {
    "case": "case", "title": "title", "date": "date", "transaction": "transaction",
    "from": "from", "to": "to", "end_use": "end_use",
    "item_id": "items[0].id", "kind": "items[0].kind", "eccn": "items[0].eccn",
    "quantity": "items[0].quantity", "tpp": "items[0].tpp",
    "performance_density": "items[0].performance_density",
    "designed_for_datacenter": "items[0].designed_for_datacenter",
    "training_operations": "items[0].training_operations", "open_weights": "items[0].open_weights",
    "consignee": "parties[0].id", "consignee_country": "parties[0].country",
    "consignee_headquarters": "parties[0].headquarters",
    "consignee_parent_headquarters": "parties[0].ultimate_parent_headquarters",
    "consignee_government_controlled": "parties[0].government_controlled",
    "consignee_distributor": "parties[0].distributor", "consignee_veu": "parties[0].veu",
    "lpp_tpp_used": "usage_this_year.lpp_tpp",
    "allocation_tpp_used": "usage_this_year.country_allocation_tpp",
    "aia_tpp_used": "usage_this_year.aia_cumulative_tpp",
}
_BOOL_COLUMNS = {"designed_for_datacenter", "open_weights", "consignee_government_controlled", "consignee_distributor"}


@dataclass
class Row:
    """One input record: where it came from and its raw data (or why it could not be read)."""

    line: int
    data: Any = None
    error: str | None = None
    source: str = ""


@dataclass
class Result:
    line: int
    output: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class Summary:
    cases: int = 0
    errors: int = 0
    license_required: int = 0
    expect_failures: int = 0
    by_exception: Counter = field(default_factory=Counter)
    red_flags: Counter = field(default_factory=Counter)

    def add(self, out: dict[str, Any]) -> None:
        self.cases += 1
        items = out["items"].values()
        if any(i["license_required"] for i in items):
            self.license_required += 1
        for i in items:
            for x in i["exceptions_available"]:
                self.by_exception[x] += 1
        for f in out["red_flags"]:
            self.red_flags[f] += 1
        if out.get("expect_mismatches"):
            self.expect_failures += 1

    def to_json(self) -> dict[str, Any]:
        return {"cases": self.cases, "errors": self.errors, "license_required": self.license_required,
                "expect_failures": self.expect_failures, "items_by_exception": dict(sorted(self.by_exception.items())),
                "red_flags": dict(sorted(self.red_flags.items()))}


# --------------------------------------------------------------------------- readers
def read_rows(path: Path) -> Iterator[Row]:
    """Yield the records of a JSONL file, a CSV file or a folder of case files."""
    if path.is_dir():
        files = sorted(f for f in path.rglob("*") if f.suffix.lower() in CASE_SUFFIXES and f.is_file())
        for n, f in enumerate(files, start=1):
            try:
                data, _ = read_document(f)
                yield Row(n, data, source=str(f))
            except ExportKBError as exc:
                yield Row(n, error=str(exc), source=str(f))
        return
    if not path.exists():
        raise ExportKBError(f"{path}: no such file (fix: give a .jsonl or .csv file, or a folder of case files)")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        yield from _read_jsonl(path)
    elif suffix == ".csv":
        yield from _read_csv(path)
    else:
        raise ExportKBError(f"{path}: unknown input type '{suffix}' (fix: use .jsonl, .csv, or a folder of .yaml/.json case files)")


def _read_jsonl(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield Row(n, json.loads(line, parse_float=Decimal), source=f"{path}:{n}")
            except json.JSONDecodeError as exc:
                yield Row(n, error=f"{path}:{n}: invalid JSON: {exc.msg} (fix: one JSON object per line)",
                          source=f"{path}:{n}")


def _read_csv(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.DictReader(fh)
        unknown = [c for c in (reader.fieldnames or []) if c not in CSV_COLUMNS]
        if unknown:
            raise ExportKBError(f"{path}: unknown CSV column(s) {', '.join(unknown)} "
                                f"(fix: rename; accepted: {', '.join(CSV_COLUMNS)})")
        for row in reader:
            n = reader.line_num
            yield Row(n, csv_row_to_case(row, n), source=f"{path}:{n}")


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
        data["parties"][0].setdefault("id", "consignee")
        data["parties"][0].setdefault("role", "ultimate_consignee")
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
_WORKER: dict[str, Any] = {}  # per-process state of a worker: its KB and Solver (parsed once)


def _init_worker(kb_path: str | None, time_limit: float | None, proofs: str) -> None:
    kb = KnowledgeBase.load(kb_path)
    _WORKER["kb"] = kb
    _WORKER["solver"] = Solver(kb, SolveOptions(chunk_size=10**9, time_limit=time_limit))
    _WORKER["proofs"] = proofs


def _solve_chunk_in_worker(rows: list[Row]) -> list[Result]:
    return solve_rows(rows, _WORKER["kb"], _WORKER["solver"], _WORKER["proofs"])


def solve_rows(rows: list[Row], kb: KnowledgeBase, solver: Solver, proofs: str = "none",
               _explainer: dict | None = None) -> list[Result]:
    """Validate and solve one chunk in one grounding; bad rows become error results.

    ``proofs``: ``none``, ``failed`` (cases whose `expect:` fails) or ``all``.
    """
    results: dict[int, Result] = {}
    pending: list[tuple[Case, dict]] = []
    good = []
    for idx, row in enumerate(rows):
        if row.error is not None:
            results[idx] = Result(row.line, error=row.error)
            continue
        try:
            good.append((idx, case_from_data(row.data, kb, source=row.source or f"line {row.line}")))
        except CaseError as exc:
            results[idx] = Result(row.line, error=str(exc))
    if good:
        try:
            dets = list(solver.determine_many([c for _, c in good]))
        except ExportKBError as exc:  # isolate: solve one by one to find the culprit
            dets = []
            for idx, case in good:
                try:
                    dets.append(solver.determine(case))
                except ExportKBError as exc1:
                    dets.append(exc1)
        for (idx, case), det in zip(good, dets):
            if isinstance(det, Exception):
                results[idx] = Result(rows[idx].line, error=str(det))
                continue
            out = det.to_json()
            out["line"] = rows[idx].line
            if case.expect:
                out["expect_mismatches"] = [str(m) for m in compare(case.expect, det)]
            results[idx] = Result(rows[idx].line, output=out)
            if proofs == "all" or (proofs == "failed" and out.get("expect_mismatches")):
                pending.append((case, out))
    if pending:
        from .explain.attach import attach_proofs  # proofs are built only when asked

        attach_proofs(kb, _explainer if _explainer is not None else _WORKER.setdefault("box", {}), pending)
    return [results[i] for i in range(len(rows))]


def run_batch(rows: Iterable[Row], *, kb_path: str | None = None, jobs: int = 1, chunk: int = 1000,
              time_limit: float | None = 300.0, proofs: str = "none",
              on_result: Callable[[Result], None], on_progress: Callable[[int], None] | None = None) -> Summary:
    """Solve every row; call ``on_result`` for each, in input order, as chunks finish."""
    summary = Summary()

    def consume(results: list[Result]) -> None:
        for res in results:
            if res.error is not None:
                summary.errors += 1
            else:
                summary.add(res.output)
            on_result(res)
        if on_progress:
            on_progress(len(results))

    chunks = chunked(rows, chunk)
    if jobs <= 1:
        kb = KnowledgeBase.load(kb_path)
        solver = Solver(kb, SolveOptions(chunk_size=10**9, time_limit=time_limit))
        box: dict = {}
        for ch in chunks:
            consume(solve_rows(ch, kb, solver, proofs, box))
        return summary
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    with ctx.Pool(jobs, initializer=_init_worker, initargs=(str(kb_path) if kb_path else None, time_limit, proofs)) as pool:
        for results in pool.imap(_solve_chunk_in_worker, chunks, chunksize=1):
            consume(results)
    return summary


# --------------------------------------------------------------------------- writers
CSV_OUT_COLUMNS = ["line", "case", "date", "item", "eccn", "license_required", "license_required_enforced",
                   "requirements", "exceptions_available", "presumption_of_denial", "obligations", "red_flags",
                   "in_scope", "expect_mismatches"]


def csv_rows(out: dict[str, Any]) -> Iterator[list[Any]]:
    """Flatten one case result into CSV rows (one per item)."""
    for item_id, it in out["items"].items():
        yield [out.get("line", ""), out["case"], out["date"], item_id, it["eccn"] or "", it["license_required"],
               it["license_required_enforced"], ";".join(r["id"] for r in it["requirements"]),
               ";".join(it["exceptions_available"]), it["presumption_of_denial"], ";".join(it["obligations"]),
               ";".join(out["red_flags"]), out["in_scope"], ";".join(out.get("expect_mismatches", []))]


class Writer:
    """Streams results to a file (or stdout) as JSONL or CSV."""

    def __init__(self, fh: io.TextIOBase, fmt: str):
        self.fh, self.fmt = fh, fmt
        self._csv = csv.writer(fh) if fmt == "csv" else None
        if self._csv:
            self._csv.writerow(CSV_OUT_COLUMNS)

    def write(self, out: dict[str, Any]) -> None:
        if self._csv:
            self._csv.writerows(csv_rows(out))
        else:
            self.fh.write(json.dumps(out, ensure_ascii=False, sort_keys=False) + "\n")
