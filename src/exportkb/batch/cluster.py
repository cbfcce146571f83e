"""`exportkb batch` on a Dask cluster: the same rows solved by the same code, on many machines.

Why this shape: a batch is embarrassingly parallel per chunk, and the users who need more than one
machine already run Dask (Kubernetes, YARN, HPC schedulers, a ``LocalCluster``). So the input is
split on the client into **partitions by byte ranges** (a JSONL file at line ends, a CSV file at
record ends — found with the csv module itself, so quoted newlines and every malformed row split
exactly as the local reader reads them —, a folder into runs of files), each partition is a small
picklable :class:`Partition` (the path, the range, its first line; never rows, never clingo
objects), and a worker reads its range and solves it with :func:`exportkb.batch.engine.solve_chunk`,
the local batch's own function. A worker process loads ``kb/`` once and keeps it (a per-process
cache, one Solver per thread); every partition result carries the KB version it was solved with,
and the client refuses a worker whose version is not its own. The client keeps a bounded window of
partitions in flight and writes their results strictly in input order, so memory on the client is
bounded by the window, and the output, the error rows and the summary are byte for byte those of
the local batch. A worker that dies loses nothing: Dask reruns its partitions elsewhere, and each
partition's result is consumed exactly once. A partition that raises (a bug, not a lost worker)
stops the run with the partition and the row named. docs/batch.md, "Dask".
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import mmap
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..errors import ExportKBError
from ..kb import KnowledgeBase
from . import engine
from .engine import CSV_COLUMNS, CSV_OUT_COLUMNS, DEFAULT_CHUNK, DEFAULT_CHUNK_PARALLEL, Result, Row, Summary, csv_rows, read_rows
from .outputs import RunFailed

#: target size of a partition of a file: big enough that the per-partition cost (scheduling,
#: a round trip, reading the range) is a few per cent of solving it (~1,800 generated rows, ~1.5 s
#: of CPU), small enough that a lost worker costs little and every worker gets work early
DEFAULT_PARTITION_BYTES = 1 << 20
#: rows per partition when the rows are handed over in memory (run_batch with an iterable of Row)
DEFAULT_PARTITION_ROWS = 2000
#: columns of :func:`determine_frame`'s result: the CSV output's, plus the row's error (or None)
FRAME_COLUMNS = [*CSV_OUT_COLUMNS, "error"]


class ClusterError(RunFailed):
    """The cluster cannot run this batch as asked (unreachable, no workers, a different KB): exit 3."""


class KBVersionMismatch(ClusterError):
    """A worker's kb/ is not the client's: its answers could differ, so nothing it solved is used."""


class ListVersionMismatch(ClusterError):
    """A worker's screening list file is not the client's (another SHA-256, or unreadable there)."""


class PartitionFailed(RunFailed):
    """A partition raised while being solved (a bug or a changed input, not a lost worker)."""


# --------------------------------------------------------------------------- partitions
@dataclass(frozen=True)
class Partition:
    """One unit of work: what a worker needs to read and solve a part of the input, and nothing more.

    ``display`` is the input path as the user gave it (it goes into sources and messages, so they are
    the local batch's); ``path`` is where workers read it (absolute). ``size``/``mtime_ns`` are the
    file the client split: a worker that sees another file there refuses the partition.
    """

    number: int
    kind: str  # "jsonl" | "csv" | "folder" | "rows"
    display: str = ""
    path: str = ""
    start: int = 0
    end: int = 0
    first_line: int = 1
    last_line: int = 1
    size: int = 0
    mtime_ns: int = 0
    fieldnames: tuple[str, ...] = ()
    entries: tuple[tuple[str, str | None], ...] = ()
    wire: tuple = ()
    data: bytes | None = None  # the range's bytes, when the client ships them (no shared storage)

    @property
    def where(self) -> str:
        return f"partition {self.number} (lines {self.first_line}–{self.last_line})"

    def rows(self) -> Iterator[Row]:
        """The partition's rows, read exactly as :func:`exportkb.batch.engine.read_rows` reads them."""
        if self.kind == "rows":
            return (Row.from_wire(w) for w in self.wire)
        if self.kind == "folder":
            base = Path(self.display)
            if not base.is_absolute() and os.path.abspath(base) != self.path:
                raise PartitionFailed(
                    f"{self.where}: the input folder {self.display} is a relative path and this worker runs in "
                    f"another directory ({os.getcwd()}) (fix: give the folder as an absolute path)")
            return engine.folder_rows([(Path(f), e) for f, e in self.entries], first=self.first_line)
        data = self.data if self.data is not None else self._read()
        newline = "" if self.kind == "csv" else None
        fh = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape", newline=newline)
        if self.kind == "csv":
            return engine.csv_partition_rows(self.display, fh, list(self.fieldnames), self.first_line)
        return engine.jsonl_rows(Path(self.display), fh, first=self.first_line)

    def _read(self) -> bytes:
        try:
            st = os.stat(self.path)
            if (st.st_size, st.st_mtime_ns) != (self.size, self.mtime_ns):
                raise PartitionFailed(
                    f"{self.where}: {self.path} on this worker is not the file the client split "
                    f"(size {st.st_size}, expected {self.size}; or modified since) "
                    f"(fix: do not change the input during a run; on a cluster, every worker must see the same file, "
                    f"or use --ship-input)")
            with open(self.path, "rb") as fh:
                fh.seek(self.start)
                return fh.read(self.end - self.start)
        except OSError as exc:
            raise PartitionFailed(f"{self.where}: cannot read {self.path} on this worker: {exc.strerror} "
                                  f"(fix: put the input where every worker sees it at the same path, "
                                  f"or use --ship-input)") from None


@dataclass
class InputPartitions:
    """An input file or folder, checked, to be split into :class:`Partition` s as it is iterated."""

    path: Path
    kind: str
    partition_bytes: int = DEFAULT_PARTITION_BYTES
    ship: bool = False
    #: task threads on the cluster (set by :meth:`DaskBackend.run`): the last partitions of a file are
    #: then made smaller (:meth:`size_at`), so that no worker solves a whole partition alone at the end
    tail_threads: int | None = None

    def size_at(self, start: int, size: int) -> int:
        """Bytes for the partition starting at *start* of a *size*-byte file ("guided" scheduling).

        Once less than two partitions per task thread remain, each partition takes
        ``remaining / (2 x threads)`` bytes, down to a sixteenth of ``partition_bytes``: the tail that
        one worker finishes while the others idle shrinks from a whole partition (~1 s of solving at
        1 MiB) to a small one, for a dozen more partitions (~2 ms of overhead each). Partitions are a
        matter of scheduling only: the output is the same for any split (tests/test_batch_dask.py).
        """
        if not self.tail_threads:
            return self.partition_bytes
        guided = (size - start) // (2 * self.tail_threads)
        return max(min(self.partition_bytes, guided), max(1, self.partition_bytes // 16))

    def __iter__(self) -> Iterator[Partition]:
        if self.kind == "folder":
            return self._folder()
        st = os.stat(self.path)
        base = dict(display=str(self.path), path=os.path.abspath(self.path), size=st.st_size, mtime_ns=st.st_mtime_ns)
        return self._csv(base) if self.kind == "csv" else self._jsonl(base)

    def _jsonl(self, base: dict) -> Iterator[Partition]:
        """Ranges that end just after a ``\\n`` (a line end in universal-newline reading, whatever
        precedes it); lines are counted as the text reader counts them: ``\\n``, ``\\r\\n``, lone ``\\r``."""
        if base["size"] == 0:
            return
        with open(self.path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            start, line, number, size = 0, 1, 1, len(mm)
            while start < size:
                cut = mm.find(b"\n", min(start + self.size_at(start, size), size) - 1)
                end = size if cut < 0 else cut + 1
                seg = mm[start:end]
                ends = seg.count(b"\n") + seg.count(b"\r") - seg.count(b"\r\n")
                lines = ends + (0 if seg.endswith((b"\n", b"\r")) else 1)
                yield Partition(number, "jsonl", start=start, end=end, first_line=line,
                                last_line=line + max(lines, 1) - 1, data=seg if self.ship else None, **base)
                start, line, number = end, line + ends, number + 1

    def _csv(self, base: dict) -> Iterator[Partition]:
        """Record boundaries found by the csv module reading the physical lines as the local reader
        does (``newline=''``: ``\\n``, ``\\r\\n``, lone ``\\r``), so quoted newlines, malformed rows and
        the rows the reader skips after an error split exactly where a whole-file read would."""
        import csv

        offsets = [0, 0]  # bytes consumed, lines consumed

        def lines() -> Iterator[str]:
            with open(self.path, "rb") as fh:
                carry = b""
                while True:
                    block = fh.read(1 << 20)
                    buf = carry + block
                    if not buf:
                        return
                    parts = buf.splitlines(keepends=True)  # bytes: only \n, \r\n, \r (never \x0b, \u2028 ...)
                    carry = b""
                    if block and (not parts[-1].endswith((b"\n", b"\r")) or parts[-1].endswith(b"\r")):
                        carry = parts.pop()  # unfinished (or a \r that a \n may follow in the next block)
                    for p in parts:
                        offsets[0] += len(p)
                        offsets[1] += 1
                        yield p.decode("utf-8", "surrogateescape")
                    if not block:
                        return

        reader = csv.reader(lines())
        try:
            fieldnames = tuple(next(reader))
        except StopIteration:
            return
        except csv.Error as exc:
            raise ExportKBError(f"{self.path}:1: the header row cannot be read: {exc} (fix: one row of column names)") from None
        start, first, number = offsets[0], offsets[1] + 1, 1
        while True:
            try:
                next(reader)
            except StopIteration:
                break
            except csv.Error:
                pass  # the local reader reports it as that row's error and resumes on the next line
            if offsets[0] - start >= self.size_at(start, base["size"]):
                yield self._csv_part(base, number, start, offsets[0], first, offsets[1], fieldnames)
                start, first, number = offsets[0], offsets[1] + 1, number + 1
        if offsets[0] > start:
            yield self._csv_part(base, number, start, offsets[0], first, offsets[1], fieldnames)

    def _csv_part(self, base: dict, number: int, start: int, end: int, first: int, last: int,
                  fieldnames: tuple[str, ...]) -> Partition:
        data = None
        if self.ship:
            with open(self.path, "rb") as fh:
                fh.seek(start)
                data = fh.read(end - start)
        return Partition(number, "csv", start=start, end=end, first_line=first, last_line=max(first, last),
                         fieldnames=fieldnames, data=data, **base)

    def _folder(self) -> Iterator[Partition]:
        """Runs of case files (sorted, as the local batch reads them) of about ``partition_bytes``."""
        run: list[tuple[str, str | None]] = []
        size, first, number = 0, 1, 1
        for n, (f, err) in enumerate(engine.folder_entries(self.path), start=1):
            run.append((str(f), None if err is None else err.strerror))
            with contextlib.suppress(OSError):
                size += f.stat().st_size if err is None else 0
            if size >= self.partition_bytes:
                yield Partition(number, "folder", display=str(self.path), path=os.path.abspath(self.path),
                                first_line=first, last_line=n, entries=tuple(run))
                run, size, first, number = [], 0, n + 1, number + 1
        if run:
            yield Partition(number, "folder", display=str(self.path), path=os.path.abspath(self.path),
                            first_line=first, last_line=first + len(run) - 1, entries=tuple(run))


def split_input(path: Path, partition_bytes: int = DEFAULT_PARTITION_BYTES, ship: bool = False) -> InputPartitions:
    """The input at ``path`` (a .jsonl/.ndjson or .csv file, or a folder of case files), checked now
    exactly as :func:`exportkb.batch.engine.read_rows` checks it (same errors, before any output is
    touched), to be split into partitions of about ``partition_bytes`` as it is iterated.

    ``ship``: the client reads each range and sends its bytes (for workers that cannot see the file;
    the client's network link then carries the whole input). Folders are always read by the workers.
    """
    if partition_bytes < 1:
        raise ExportKBError("--partition-bytes must be at least 1")
    rows = read_rows(path)  # every whole-input refusal of the local batch, word for word
    close = getattr(rows, "close", None)
    if close:
        close()
    kind = "folder" if path.is_dir() else "csv" if path.suffix.lower() == ".csv" else "jsonl"
    return InputPartitions(path, kind, partition_bytes, ship)


def row_partitions(rows: Iterable[Row], size: int = DEFAULT_PARTITION_ROWS) -> Iterator[Partition]:
    """Rows already in memory (a library caller's), sent to the workers ``size`` at a time."""
    batch: list[tuple] = []
    number = 1
    for row in rows:
        batch.append(row.to_wire())
        if len(batch) >= size:
            yield Partition(number, "rows", first_line=batch[0][0], last_line=batch[-1][0], wire=tuple(batch))
            batch, number = [], number + 1
    if batch:
        yield Partition(number, "rows", first_line=batch[0][0], last_line=batch[-1][0], wire=tuple(batch))


# --------------------------------------------------------------------------- the worker side
@dataclass(frozen=True)
class Settings:
    """What every partition of one run is solved with (sent with each task; a few strings)."""

    kb_path: str | None
    time_limit: float | None
    proofs: str
    chunk: int
    kb_version: str
    #: ``--list``: the screening list's path (as the workers see it) and the client's SHA-256 of it
    list_file: str | None = None
    list_version: str | None = None

    def where_kb(self) -> str:
        return ("kb/ at " + self.kb_path) if self.kb_path else "the kb/ installed with exportkb"


@dataclass
class PartitionResult:
    number: int
    triples: list[tuple[int, str | None, str | None]]
    summary: Summary
    kb_version: str
    worker: str
    seconds: float  # CPU-bound time spent in the task on the worker (reading, solving, formatting)


class _ProcessCache:
    """Per worker process: each KB parsed once (by path), one Solver and proof box per thread.

    Dask may run several task threads in one worker process; a Solver and its box are not shared
    between threads. The KB itself is only read once parsed.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.kbs: dict[str | None, KnowledgeBase] = {}
        self.screeners: dict[str, Any] = {}
        self.local = threading.local()

    def screener(self, list_file: str) -> Any:
        """The screener of a list file, built once per process (a Screener is only read once built)."""
        with self.lock:
            if list_file not in self.screeners:
                from ..screening.cases import screener_for

                self.screeners[list_file] = screener_for(list_file)
            return self.screeners[list_file]

    def kb(self, kb_path: str | None) -> KnowledgeBase:
        with self.lock:
            if kb_path not in self.kbs:
                self.kbs[kb_path] = KnowledgeBase.load(kb_path)
            return self.kbs[kb_path]

    def solver(self, kb_path: str | None, time_limit: float | None) -> tuple[KnowledgeBase, Any, dict]:
        kb = self.kb(kb_path)
        per_thread = self.local.__dict__.setdefault("solvers", {})
        key = (kb_path, time_limit)
        if key not in per_thread:
            per_thread[key] = (engine.batch_solver(kb, time_limit), {})
        solver, box = per_thread[key]
        return kb, solver, box


_CACHE = _ProcessCache()  # the per-process cache the issue asks for: a worker loads kb/ once


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except Exception:  # not on a Dask worker (a synchronous test, a plain pandas call)
        return f"pid {os.getpid()}"


def worker_kb_version(kb_path: str | None) -> tuple[bool, str]:
    """Run on every worker before the batch: load (and keep) its KB; its version, or why it cannot."""
    try:
        return True, _CACHE.kb(kb_path).version
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


def worker_list_version(list_file: str) -> tuple[bool, str]:
    """Run on every worker before a screened batch: build (and keep) its screener; the list's SHA-256, or why not."""
    try:
        return True, _CACHE.screener(list_file).slist.sha256
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


def _worker_screener(settings: Settings) -> Any:
    if settings.list_file is None:
        return None
    screener = _CACHE.screener(settings.list_file)
    if screener.slist.sha256 != settings.list_version:
        raise ListVersionMismatch(f"worker {_worker_name()} has screening list {settings.list_file} with SHA-256 "
                                  f"{screener.slist.sha256}, the client {settings.list_version} (fix: give every "
                                  f"worker the same list file)")
    return screener


def solve_partition(part: Partition, settings: Settings) -> PartitionResult:
    """A worker's task: read one partition, solve it chunk by chunk, return its lines' text.

    A chunk that raises (the batch isolates rows, so this is a bug or a changed input) is re-solved
    row by row to name the row; the partition then fails with :class:`PartitionFailed`.
    """
    began = time.process_time()
    kb, solver, box = _CACHE.solver(settings.kb_path, settings.time_limit)
    if kb.version != settings.kb_version:
        raise KBVersionMismatch(f"worker {_worker_name()} has KB version {kb.version}, the client "
                                f"{settings.kb_version} ({settings.where_kb()})")
    screener = _worker_screener(settings)
    triples: list[tuple[int, str | None, str | None]] = []
    summary = Summary()
    rows = part.rows()
    while True:
        chunk = [row for _, row in zip(range(settings.chunk), rows)]
        if not chunk:
            break
        try:
            results, part_summary = engine.solve_chunk(chunk, kb, solver, settings.proofs, box, screener)
        except Exception as exc:
            raise PartitionFailed(_locate(part, chunk, kb, solver, settings, box, exc, screener)) from None
        summary.merge(part_summary)
        triples.extend((r.line, r.text, r.error) for r in results)
    return PartitionResult(part.number, triples, summary, kb.version, _worker_name(), time.process_time() - began)


def _locate(part: Partition, chunk: list[Row], kb: KnowledgeBase, solver: Any, settings: Settings, box: dict,
            exc: Exception, screener: Any = None) -> str:
    """The message for a chunk that raised: the first row that raises alone, or the chunk's lines."""
    for row in chunk:
        try:
            engine.solve_chunk([row], kb, solver, settings.proofs, box, screener)
        except Exception as one:
            return (f"{part.where} failed at line {row.line} ({row.source or 'line ' + str(row.line)}): "
                    f"{type(one).__name__}: {one} (fix: report this as a bug, with that row)")
    return (f"{part.where} failed in the rows of lines {chunk[0].line}–{chunk[-1].line} together "
            f"(none fails alone): {type(exc).__name__}: {exc} (fix: report this as a bug, with those rows)")



# --------------------------------------------------------------------------- the client side
@dataclass
class DaskBackend:
    """Run a batch on a Dask cluster through ``client`` (``distributed.Client``).

    ``window``: partitions in flight at once (default: twice the cluster's task threads, at least 2);
    the client holds at most that many partitions' results. ``partition_rows``: for rows handed over
    in memory. ``ship``: only for inputs given as rows (the rows travel anyway) — for files see
    :func:`split_input`.
    """

    client: Any
    window: int | None = None
    partition_rows: int = DEFAULT_PARTITION_ROWS
    worker_timeout: float = 60.0
    #: the client's KB version, when the caller already has it: the CLI loads the KB while a
    #: LocalCluster starts (0.5 s of the 2-worker run's fixed cost); None: loaded in :meth:`run`.
    #: It must be the version of the ``kb_path`` given to :meth:`run`.
    kb_version: str | None = None
    #: per partition, as consumed: (number, rows, worker, task CPU seconds, wall seconds since submission)
    timings: list[tuple[int, int, str, float, float]] = field(default_factory=list)

    def check_workers(self, kb_path: str | None, version: str) -> int:
        """Every worker's KB must be the client's; returns the number of task threads on the cluster."""
        try:
            self.client.wait_for_workers(1, timeout=self.worker_timeout)
        except Exception:
            raise ClusterError(f"no Dask worker joined the scheduler within {self.worker_timeout:g} s "
                               f"(fix: start workers, e.g. `dask worker ADDRESS --nthreads 1`)") from None
        answers = self._ask_workers(worker_kb_version, kb_path, "cannot run exportkb",
                                    "install the same exportkb[dask] on every worker")
        bad = _disagreeing(answers, version)
        if bad:
            lines = "; ".join(f"{addr}: {text if text != version else 'ok'}" for addr, text in bad)
            raise KBVersionMismatch(f"refusing to run: {len(bad)} of {len(answers)} Dask worker(s) do not have the "
                                    f"client's KB version {version} ({lines}) (fix: install the same exportkb and "
                                    f"kb/ on every worker; `exportkb --version` and the kb_version of "
                                    f"`exportkb check --json` show them)")
        info = self.client.scheduler_info(n_workers=-1) if _takes_n_workers(self.client) else self.client.scheduler_info()
        return sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()) or 1

    def _ask_workers(self, fn: Any, arg: Any, failure: str, fix: str) -> dict[str, tuple[bool, str]]:
        """``fn(arg)`` on every worker (``client.run``): {address: (ok, text)}; a worker that cannot run it
        at all is a :class:`ClusterError` naming the fix, before any row is solved."""
        try:
            return self.client.run(fn, arg)
        except Exception as exc:
            raise ClusterError(f"the Dask workers {failure}: {type(exc).__name__}: {exc} (fix: {fix})") from None

    def check_lists(self, list_file: str, version: str) -> None:
        """Every worker must read the client's screening list (same SHA-256) before any row is solved."""
        answers = self._ask_workers(worker_list_version, list_file, "cannot read the screening list",
                                    "install exportkb[dask,screening] on every worker")
        bad = _disagreeing(answers, version)
        if bad:
            lines = "; ".join(f"{addr}: {text}" for addr, text in bad)
            raise ListVersionMismatch(f"refusing to run: {len(bad)} of {len(answers)} Dask worker(s) do not read the "
                                      f"client's screening list {list_file} (SHA-256 {version}) ({lines}) (fix: give "
                                      f"every worker the same file at that path)")

    def run(self, rows: Any, *, kb_path: str | None, chunk: int | None, time_limit: float | None, proofs: str,
            on_result: Callable[[Result], None], on_progress: Callable[[int], None] | None = None,
            list_file: str | None = None, list_version: str | None = None) -> Summary:
        """Solve every partition on the cluster; call ``on_result`` for each row in input order.

        ``list_file``/``list_version``: screen every row's parties against that list (each worker
        builds its screener once and must find the same SHA-256 as the client)."""
        from distributed import KilledWorker

        version = self.kb_version or KnowledgeBase.load(kb_path).version
        threads = self.check_workers(kb_path, version)
        if list_file is not None:
            self.check_lists(list_file, list_version or "")
        window = self.window or max(2, 2 * threads)
        if isinstance(rows, InputPartitions) and rows.tail_threads is None:
            rows = dataclasses.replace(rows, tail_threads=threads)
        # groundings of DEFAULT_CHUNK_PARALLEL cases, as the local batch with several processes (same-log A/B,
        # 2026-12-04: 500 a grounding 38.1 / 39.8 s, 1,000 39.3 / 40.1 s, 2 workers, 100,000 cases)
        settings = Settings(kb_path, time_limit, proofs, chunk or DEFAULT_CHUNK_PARALLEL, version, list_file,
                            list_version)
        parts: Iterable[Partition] = rows if isinstance(rows, InputPartitions) else row_partitions(rows, self.partition_rows)
        summary = Summary()
        flight: deque[tuple[Partition, Any, float]] = deque()

        def consume() -> None:
            part, fut, sent = flight.popleft()
            try:
                res: PartitionResult = fut.result()
            except (PartitionFailed, KBVersionMismatch, ListVersionMismatch):
                raise
            except KilledWorker as exc:
                raise ClusterError(f"{part.where}: every worker that tried to solve it died ({exc}) (fix: if they "
                                   f"ran out of memory, use a smaller --partition-bytes or --chunk)") from None
            except Exception as exc:
                raise ClusterError(f"{part.where} failed on the cluster: {type(exc).__name__}: {exc} "
                                   f"(fix: report this as a bug, with the partition's lines)") from None
            if res.kb_version != version:  # a worker that joined after the check, with another kb/
                raise KBVersionMismatch(f"refusing the result of {part.where}: worker {res.worker} solved it with "
                                        f"KB version {res.kb_version}, the client has {version} (fix: install the "
                                        f"same exportkb and kb/ on every worker)")
            self.timings.append((part.number, len(res.triples), res.worker, res.seconds, time.perf_counter() - sent))
            summary.merge(res.summary)
            for line, text, error in res.triples:
                on_result(Result(line, text=text, error=error))
            if on_progress:
                on_progress(len(res.triples))

        try:
            for part in parts:
                fut = self.client.submit(solve_partition, part, settings, pure=False, retries=0,
                                         key=f"exportkb-partition-{part.number}-{os.urandom(6).hex()}")
                flight.append((part, fut, time.perf_counter()))
                while len(flight) >= window:
                    consume()
            while flight:
                consume()
        finally:
            for _, fut, _ in flight:
                fut.cancel()
        return summary


def _takes_n_workers(client: Any) -> bool:
    import inspect

    try:
        return "n_workers" in inspect.signature(client.scheduler_info).parameters
    except (TypeError, ValueError):
        return False


@contextlib.contextmanager
def connect(scheduler: str | None = None, local_workers: int | None = None,
            timeout: float = 30.0) -> Iterator[Any]:
    """A ``distributed.Client``: to the scheduler at ``scheduler``, or to a ``LocalCluster`` of
    ``local_workers`` single-threaded worker processes started (and stopped) here."""
    try:
        import logging

        from distributed import Client, LocalCluster
    except ImportError:
        raise ExportKBError("--backend dask needs Dask (fix: pip install 'exportkb[dask]')") from None
    if scheduler and local_workers:
        raise ExportKBError("--scheduler and --local-workers exclude each other (fix: give one)")
    if scheduler:
        try:
            client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise ExportKBError(f"--scheduler {scheduler}: cannot connect: {exc} (fix: check the address, e.g. "
                                f"tcp://HOST:8786, and that the scheduler is running)") from None
        with contextlib.closing(client):
            yield client
        return
    n = local_workers or os.cpu_count() or 1
    if n < 1:
        raise ExportKBError("--local-workers must be at least 1")
    import dask

    # no memory manager (the batch has its own --memory-limit); the dashboard (if any) on a free port;
    # Dask's own diagnostics quietened (QUIET_DIAGNOSTICS), in the workers and the in-process scheduler
    with dask.config.set(QUIET_DIAGNOSTICS):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, memory_limit=0,
                               dashboard_address=":0", silence_logs=logging.ERROR)
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()


#: Dask settings of the LocalCluster that ``--local-workers`` starts. Why: Dask's diagnostics for its
#: dashboard cost a batch a tenth of its time on 2 cores — each worker samples its task thread's
#: stack every 10 ms (the statistical profiler), wakes its event loop every 20 ms to time it, reads
#: psutil every 500 ms and, with gilknocker, the GIL every 1 ms. Measured on 100,000 cases
#: (2026-12-04, 2 workers): 47.5 s and 90 s of CPU with Dask's defaults, 38.8 s and 74 s without
#: them (the local --jobs 2: 38.0 s, 74 s). Nothing of a batch's answer, retry or fault handling
#: depends on them (a lost worker is seen by its nanny and the scheduler's heartbeats). For a cluster
#: of your own (``--scheduler``) set the same keys in its Dask configuration (docs/batch.md).
QUIET_DIAGNOSTICS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.admin.system-monitor.gil.enabled": False,
}


# --------------------------------------------------------------------------- DataFrames
def _cell(value: Any) -> str | None:
    """A DataFrame cell as the CSV text the batch reads (None: not given).

    pandas turns an integer column with a gap into floats (1000 → 1000.0), so an integral float is
    written as the integer; booleans as ``true``/``false``; a date or midnight timestamp as ISO date.
    Read the frame with ``dtype=str`` to hand over exactly what a CSV file holds.
    """
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()  # numpy scalars → Python's (np.bool_ → bool, np.int64 → int ...)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (int, Decimal)):
        return str(value)
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp):
            return value.date().isoformat() if value == value.normalize() else value.isoformat()
    except ImportError:  # pragma: no cover - a frame without pandas cannot reach here
        pass
    iso = getattr(value, "isoformat", None)
    return iso() if iso else str(value)


def frame_meta() -> Any:
    """The empty frame :func:`determine_frame` returns, for ``ddf.map_partitions(..., meta=frame_meta())``."""
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype=object) for c in FRAME_COLUMNS})


def determine_frame(df: Any, kb_path: str | None = None, time_limit: float | None = 300.0,
                    chunk: int = DEFAULT_CHUNK) -> Any:
    """A pandas DataFrame of transactions (the batch's CSV columns, docs/batch.md) → their determinations.

    One result row per item, the columns of ``batch --format csv`` (:data:`FRAME_COLUMNS`), plus
    ``error`` for a row that cannot be determined (its other columns empty). ``line`` is the row's
    index label where it is an integer, else its position from 1. For Dask:
    ``ddf.map_partitions(determine_frame, meta=frame_meta())`` — each worker process loads kb/ once
    (the same per-process cache as the batch tasks).
    """
    import pandas as pd

    unknown = [str(c) for c in df.columns if c not in CSV_COLUMNS]
    if unknown:
        raise ExportKBError(f"DataFrame: unknown column(s) {', '.join(unknown)} "
                            f"(fix: rename; accepted: {', '.join(CSV_COLUMNS)})")
    kb, solver, box = _CACHE.solver(kb_path, time_limit)
    cols = [str(c) for c in df.columns]
    rows: list[Row] = []
    for pos, (label, values) in enumerate(zip(df.index, df.itertuples(index=False, name=None)), start=1):
        line = int(label) if isinstance(label, int) or type(label).__name__.startswith("int") else pos
        source = f"DataFrame row {label}"
        try:
            cells = {c: t for c, t in ((c, _cell(v)) for c, v in zip(cols, values)) if t is not None}
            rows.append(Row(line, engine.csv_row_to_case(cells, line), source=source))
        except Exception as exc:
            rows.append(Row(line, error=engine.row_error(source, exc), source=source))
    out: list[list[Any]] = []
    for start in range(0, len(rows), chunk):
        results, _ = engine.solve_chunk(rows[start:start + chunk], kb, solver, "none", box)
        for res in results:
            if res.error is not None:
                out.append([res.line] + [None] * (len(CSV_OUT_COLUMNS) - 1) + [res.error])
            else:
                out.extend([*r, None] for r in csv_rows(res.output))  # type: ignore[arg-type]
    frame = pd.DataFrame(out, columns=FRAME_COLUMNS, dtype=object) if out else frame_meta()
    return frame


def _disagreeing(answers: dict[str, tuple[bool, str]], version: str) -> list[tuple[str, str]]:
    """The workers whose answer failed or differs from the client's *version*, sorted by address."""
    return sorted((addr, text) for addr, (ok, text) in answers.items() if not ok or text != version)
