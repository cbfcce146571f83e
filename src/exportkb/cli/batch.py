"""`exportkb batch`: determinations over a transaction log, streamed, in input order, in parallel."""
from __future__ import annotations

import contextlib
import json
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import click

from ..batch import CSV_OUT_COLUMNS, Result, Summary, Writer, csv_rows, read_rows, run_batch
from ..batch.outputs import RunFailed, SafeOutputs, check_output, write_failed
from ..budget import budgeted, cap_jobs, memory_limit_option, time_limit_option
from ..case.loader import CASE_SUFFIXES
from ..errors import ExportKBError
from ..kb import KnowledgeBase
from .common import list_option


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Output file (default: standard output; parquet needs a file).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet"]), default="jsonl", show_default=True)
@click.option("--jobs", type=int, default=1, show_default=True,
              help="Worker processes, at most the number of CPUs (more is capped, with a notice).")
@click.option("--chunk", type=int, default=None, help="Cases per grounding (default: 1000 with one process, 500 with several or with --backend dask).")
@click.option("--proofs", type=click.Choice(["none", "failed", "all"]), default="none", show_default=True,
              help="Attach why-proofs: to cases whose `expect:` fails, or to all.")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where bad rows are reported (default: OUT.errors.jsonl, or standard error).")
@time_limit_option(300.0, help="Seconds of solving allowed per chunk.")
@memory_limit_option()
@click.option("--quiet", is_flag=True, help="No progress bar or summary.")
@click.option("--backend", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="local: this machine's processes (--jobs); dask: a Dask cluster (needs exportkb[dask]).")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="With --backend dask: the scheduler to use, e.g. tcp://HOST:8786.")
@click.option("--local-workers", type=int, default=None,
              help="With --backend dask: start a LocalCluster of N worker processes (default: the CPU count).")
@click.option("--partition-bytes", type=int, default=None,
              help="With --backend dask: bytes of input per partition (default 1 MiB).")
@click.option("--ship-input", is_flag=True,
              help="With --backend dask: send each partition's bytes to the workers (they need not see the file).")
@list_option()
@click.pass_context
@budgeted("batch", whole_command_time=False)
def batch(ctx: click.Context, input_path: Path, out_path: Path | None, fmt: str, jobs: int, chunk: int | None,
          proofs: str, errors_path: Path | None, time_limit: float, quiet: bool, backend: str,
          scheduler: str | None, local_workers: int | None, partition_bytes: int | None, ship_input: bool,
          list_path: Path | None) -> None:
    """Determine every case of INPUT: a JSONL file (one case object per line), a CSV file (one
    transaction line per row; columns in docs/batch.md) or a folder of case files.

    One result per case (the JSON of `check --json`, plus its input line), in input order, streamed as
    chunks finish. Bad rows go to the error file with their line number and are skipped.

    \b
    Examples:
      exportkb batch log.jsonl --out results.jsonl --jobs 2
      exportkb batch erp.csv --format csv --out results.csv
      exportkb batch log.jsonl --out results.jsonl --backend dask --local-workers 2
      exportkb batch log.jsonl --out results.jsonl --backend dask --scheduler tcp://HOST:8786
      exportkb batch log.jsonl --out results.jsonl --list consolidated.csv

    With --list (or $EXPORTKB_LIST), every row's parties are screened against the list as `check
    --list` screens them (a potential match holds the row: license_required null, with the obligation
    to resolve it); the summary names the list file and its SHA-256. With --backend dask every
    worker reads the list at the same path and must find the same SHA-256.
    """
    if chunk is not None and chunk < 1:
        raise ExportKBError("--chunk must be at least 1")
    if fmt == "parquet" and out_path is None:
        raise ExportKBError("--format parquet needs --out FILE")
    dask_options = [o for o, v in (("--scheduler", scheduler), ("--local-workers", local_workers),
                                    ("--partition-bytes", partition_bytes), ("--ship-input", ship_input)) if v]
    if backend == "local" and dask_options:
        raise ExportKBError(f"{dask_options[0]} needs --backend dask")
    if backend == "dask" and jobs != 1:
        raise ExportKBError("--jobs is for --backend local (fix: with --backend dask, use --local-workers N "
                            "or the workers of --scheduler)")
    if local_workers is not None and local_workers < 1:
        raise ExportKBError("--local-workers must be at least 1")
    if scheduler and local_workers:
        raise ExportKBError("--scheduler and --local-workers exclude each other (fix: give one)")
    jobs = cap_jobs(jobs)
    kb_path = ctx.find_root().obj.get("kb_path")

    # The input is checked (exists, known type, readable, CSV header) before any output is touched.
    if backend == "dask":
        from ..batch.cluster import DEFAULT_PARTITION_BYTES, split_input

        rows: Any = split_input(input_path, partition_bytes or DEFAULT_PARTITION_BYTES, ship=ship_input)
    else:
        rows = read_rows(input_path)
    screener = None
    if list_path is not None:  # read (and refused if bad) before any output is touched
        from ..screening.cases import screener_for

        screener = screener_for(list_path)
    if errors_path is None and out_path is not None:
        errors_path = out_path.with_name(out_path.name + ".errors.jsonl")
    if out_path is not None:
        check_output(out_path, "--out", inputs=[input_path], input_suffixes=CASE_SUFFIXES)
    if errors_path is not None:
        check_output(errors_path, "--errors", inputs=[input_path], input_suffixes=CASE_SUFFIXES,
                     others=[(out_path, "--out")] if out_path is not None else ())
    consoles: list[Any] = []

    def console() -> Any:
        """rich's Console, imported only when something is printed (not under --quiet with an error file)."""
        if not consoles:
            from rich.console import Console
            consoles.append(Console(stderr=True))
        return consoles[0]

    caught: list[int] = []
    outputs = SafeOutputs()
    try:
        with _signals_interrupt(caught), outputs, contextlib.ExitStack() as stack:
            runner = None
            if backend == "dask":
                from ..batch.cluster import DaskBackend, connect

                # the client's KB is parsed while the cluster starts (a LocalCluster waits on its workers)
                pool = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="exportkb-kb"))
                version = pool.submit(lambda: KnowledgeBase.load(str(kb_path) if kb_path else None).version)
                client = stack.enter_context(connect(scheduler, local_workers))
                runner = DaskBackend(client, kb_version=version.result())
            summary = _run(outputs, rows, out_path, errors_path, fmt, kb_path, jobs, chunk, time_limit, proofs,
                           quiet, console, runner, screener)
            if caught:  # an interrupt that a library swallowed still means the run is incomplete
                raise Interrupted(caught[0])
            outputs.commit()
    except Interrupted as exc:
        name = signal.Signals(exc.signum).name
        if outputs.committed:  # the signal came while the finished outputs were being renamed
            kept = f"after the run had finished: {out_path} is complete"
        elif out_path is not None:
            kept = f"no output file written; {out_path} is unchanged"
        else:
            kept = "the results on standard output are incomplete"
        click.echo(f"interrupted ({name}): stopped, {kept}", err=True)
        sys.exit(128 + exc.signum)
    except RunFailed as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(3)
    if not quiet:
        s = summary.to_json()
        console().print(f"cases: {s['cases']}  license required: {s['license_required']}  errors: {s['errors']}"
                      + (f" (see {errors_path})" if errors_path and s["errors"] else "")
                      + (f"  expect failures: {s['expect_failures']}" if s["expect_failures"] else ""))
        console().print(f"not covered (determined; ECCN outside the KB): {s['not_covered']}  "
                        f"licence unknown: {s['license_unknown']}  (errors = invalid rows only)")
        console().print("items by exception: " + (", ".join(f"{k} {v}" for k, v in s["items_by_exception"].items()) or "none")
                      + "; red flags: " + (", ".join(f"{k} {v}" for k, v in s["red_flags"].items()) or "none"))
        if s["list_file"] is not None:
            from rich.markup import escape

            console().print(f"screened against {escape(s['list_file'])} (SHA-256 {s['list_version']})", highlight=False)
    sys.exit(1 if summary.expect_failures else 0)


def _run(outputs: SafeOutputs, rows: Any, out_path: Path | None, errors_path: Path | None, fmt: str,
         kb_path: Any, jobs: int, chunk: int | None, time_limit: float, proofs: str, quiet: bool,
         console: Any, runner: Any = None, screener: Any = None) -> Summary:
    """Lock the outputs, write every result to their temporary files; the caller commits them."""
    out_fh = None
    if out_path is not None:
        out_file = outputs.add(out_path, "--out")
        if fmt == "parquet":
            writer: Any = _ParquetWriter(out_file.create())
        else:
            out_fh = out_file.open_text()
            writer = Writer(out_fh, fmt)
    else:
        writer = Writer(sys.stdout, fmt)
    err_fh = outputs.add(errors_path, "--errors").open_text() if errors_path is not None else None

    def failed(path: Path | None, option: str, exc: OSError) -> RunFailed:
        if path is None:
            return RunFailed(f"cannot write {'standard output' if option == '--out' else 'standard error'}: "
                             f"{exc.strerror or exc}")
        return write_failed(path, option, exc)

    progress: Any = None
    if not quiet and console().is_terminal:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
        progress = Progress(TextColumn("solving"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=console())

    def on_result(res: Result) -> None:
        if res.error is not None:
            line = json.dumps({"line": res.line, "error": res.error}, ensure_ascii=False)
            try:
                (err_fh.write(line + "\n") if err_fh else _print_error(console(), res))
            except OSError as exc:
                raise failed(errors_path, "--errors", exc) from None
            return
        try:
            writer.write_result(res)
        except OSError as exc:
            raise failed(out_path, "--out", exc) from None

    with progress or contextlib.nullcontext():
        task = progress.add_task("cases", total=None) if progress else None
        summary = run_batch(rows, kb_path=kb_path, jobs=jobs, chunk=chunk, time_limit=time_limit, proofs=proofs,
                            on_result=on_result, backend=runner, screener=screener,
                            on_progress=(lambda n: progress.advance(task, n)) if progress else None)
    if hasattr(writer, "close"):
        try:
            writer.close()
        except OSError as exc:
            raise failed(out_path, "--out", exc) from None
    return summary


def _print_error(console: Any, res: Result) -> None:
    """A bad row on standard error; its text is escaped (``items[0]`` is not rich markup)."""
    from rich.markup import escape

    console.print(f"[red]line {res.line}[/]: {escape(res.error or '')}", highlight=False)


class Interrupted(BaseException):
    """SIGINT or SIGTERM reached the batch: stop, write nothing, exit 128 + the signal number.

    A BaseException (like KeyboardInterrupt), so that the per-row ``except Exception`` of the
    batch never mistakes it for one row's error.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _signals_interrupt(caught: list[int]) -> Iterator[None]:
    """While the batch runs, SIGINT and SIGTERM raise :class:`Interrupted` (and are noted in ``caught``)."""
    def handler(signum: int, _frame: Any) -> None:
        caught.append(signum)
        raise Interrupted(signum)

    previous = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handler)
    except ValueError:  # not the main thread: leave the signals alone
        pass
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class _ParquetWriter:
    """Parquet output through pyarrow, one row group per chunk of results."""

    def __init__(self, path: Path):
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise ExportKBError("--format parquet needs pyarrow (fix: pip install pyarrow, or use --format csv)") from None
        self.pa, self.pq, self.path = pa, pq, path
        self.schema = pa.schema([(c, pa.string()) for c in CSV_OUT_COLUMNS])
        self.writer = pq.ParquetWriter(str(path), self.schema)
        self.buffer: list[list] = []

    def write_result(self, res: Result) -> None:
        self.write(res.output)

    def write(self, out) -> None:
        self.buffer.extend(csv_rows(out))
        if len(self.buffer) >= 5000:
            self._flush()

    def _flush(self) -> None:
        if not self.buffer:
            return
        cols = list(zip(*self.buffer))
        table = self.pa.table({c: [str(v) for v in col] for c, col in zip(CSV_OUT_COLUMNS, cols)}, schema=self.schema)
        self.writer.write_table(table)
        self.buffer = []

    def close(self) -> None:
        self._flush()
        self.writer.close()
