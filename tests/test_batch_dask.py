"""`exportkb batch --backend dask`: the same bytes as the local batch, on a Dask LocalCluster.

* partitions by byte ranges read back exactly the rows, line numbers and errors of the whole-file
  reader (JSONL with CRLF / lone CR / blank lines / bad UTF-8; CSV with quoted newlines and every
  malformed-row kind; folders) — checked without a cluster, at every partition size down to one byte;
* output, error file, summary and exit code of ``--backend dask`` equal the local ``--jobs 2``
  batch byte for byte: the regression corpus (as JSONL, as a folder with its bad files, as CSV),
  10,000 generated cases (``--local-workers 2``), ``--proofs all``;
* a worker process killed mid-run (SIGKILL) loses nothing: its partitions are solved elsewhere,
  the output is complete, ordered and free of duplicates;
* a partition that raises stops the run naming the partition and the row; a worker with another
  KB version is refused, before the run and on a result;
* the library API (``run_batch(..., backend=DaskBackend(client))``) and ``determine_frame`` for
  ``ddf.map_partitions``.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

distributed = pytest.importorskip("distributed", reason="Dask not installed (pip install 'exportkb[test]')")

import exportkb.cli as cli  # noqa: E402
from exportkb.batch import CSV_COLUMNS, Row, read_rows, run_batch  # noqa: E402
from exportkb.batch.cluster import (DaskBackend, KBVersionMismatch, PartitionFailed, connect,  # noqa: E402
                                    determine_frame, frame_meta, split_input)
from exportkb.case.loader import read_document  # noqa: E402
from exportkb.kb import KnowledgeBase  # noqa: E402

from .conftest import CASES, ROOT  # noqa: E402

GOOD_FILES = sorted(p for p in CASES.rglob("*.yaml") if "bad" not in p.relative_to(CASES).parts)


def _invoke(args: list[str]):
    result = CliRunner().invoke(cli.main, args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _row_key(row: Row) -> tuple:
    return (row.line, row.source, json.dumps(row.data, default=str, sort_keys=True), row.error)


def _all_rows(path: Path, partition_bytes: int, ship: bool = False) -> list[tuple]:
    parts = list(split_input(path, partition_bytes, ship=ship))
    numbers = [p.number for p in parts]
    assert numbers == list(range(1, len(parts) + 1))
    rows = [_row_key(r) for p in parts for r in p.rows()]
    for p in parts:  # the lines a partition names cover its rows
        got = [r.line for r in p.rows()]
        assert all(p.first_line <= n <= p.last_line for n in got), (p.where, got)
    return rows


def _corpus_jsonl(path: Path, files=GOOD_FILES, bad_rows: bool = True) -> Path:
    """The regression cases (their expect: blocks kept) as JSONL, with bad rows between them."""
    lines = []
    for i, f in enumerate(files):
        if bad_rows and i == 5:
            lines.append('{"case": "broken", ')
        if bad_rows and i == 9:
            lines.append("")
        if bad_rows and i == 12:
            lines.append(json.dumps({"case": "bad-to", "date": "2025-06-01", "to": "XX"}))
        lines.append(json.dumps(read_document(f)[0], default=str))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- partitions (no cluster)
JSONL_TRICKY = (b'{"case": "a", "date": "2025-06-01", "to": "DE"}\r\n'
                b'\n'
                b'{"case": "b\xc3\xa9", "date": "2025-06-01", "to": "FR"}\r'
                b'{"case": "c", "date": "2025-06-01", "to": "J\xffP"}\n'
                b'   \n'
                b'{"case": "d", "date": "2025-06-01",\n'
                b'{"case": "e", "date": "2025-06-01", "to": "NL"}')  # no newline at the end


@pytest.mark.parametrize("ship", [False, True])
def test_jsonl_partitions_read_the_same_rows(tmp_path, ship):
    path = tmp_path / "log.jsonl"
    path.write_bytes(JSONL_TRICKY)
    whole = [_row_key(r) for r in read_rows(path)]
    assert [k[0] for k in whole] == [1, 3, 4, 6, 7]  # CRLF, lone CR and blank lines counted as the reader does
    for size in (1, 5, 40, 60, 100, 10**6):
        assert _all_rows(path, size, ship) == whole, size


@pytest.mark.parametrize("threads", [1, 2, 7])
def test_guided_tail_partitions_read_the_same_rows_and_shrink_at_the_end(tmp_path, threads):
    """With the cluster's thread count known, the last partitions of a file get smaller (no worker
    solves a whole partition alone at the end), and the rows read are still every row, once, in order."""
    import dataclasses
    from benchmarks.generate import generate
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in generate(3000)))
    csv_path = tmp_path / "log.csv"
    csv_path.write_text("case,date,to,eccn\n" + "".join(f"c{i},2025-06-01,DE,3A090.a\n" for i in range(6000)))
    for p in (path, csv_path):
        whole = [_row_key(r) for r in read_rows(p)]
        plain = split_input(p, 64 * 1024)
        guided = dataclasses.replace(plain, tail_threads=threads)
        sizes = [part.end - part.start for part in guided]
        assert len(sizes) > len(list(plain))
        assert max(sizes) < 64 * 1024 + 1000 and min(sizes[:-1]) >= 64 * 1024 // 16  # whole lines or records
        assert sizes[-2] < sizes[0] / 2, sizes  # the tail is cut finer
        got = [_row_key(r) for part in guided for r in part.rows()]
        assert got == whole, p


def _tricky_csv() -> bytes:
    cols = ",".join(["case", "title", "date", "to", "eccn"])
    rows = [
        'q1,"two\nlines",2025-06-01,DE,3A090.a',  # quoted LF
        'q2,"crlf\r\ninside ""quoted""",2025-06-01,FR,3A090.a\r',  # quoted CRLF, CRLF end (with the \n below)
        'q3,plain,2025-06-01,JP,3A090.a\r',  # lone CR end
        'q4,ab"c,2025-06-01,NL,3A090.a',  # a quote inside an unquoted cell (literal)
        'q5,x,2025-06-01,DE,3A090.a,extra',  # one cell too many
        '',  # blank line (skipped by the reader)
        'q6,"' + "y" * (131072 + 10) + '",2025-06-01,DE,3A090.a',  # over the field size limit
        'q7,nul\x00here,2025-06-01,DE,3A090.a',  # NUL
        'q8,"after errors",2025-06-01,KR,3A090.a',
        'q9,"never closed,2025-06-01,KR,3A090.a',  # an open quote swallows the rest
        'q10,x,2025-06-01,KR,3A090.a',
    ]
    return (cols + "\n" + "\n".join(rows) + "\n").encode("utf-8")


@pytest.mark.parametrize("ship", [False, True])
def test_csv_partitions_handle_quoted_newlines_and_malformed_rows(tmp_path, ship):
    path = tmp_path / "erp.csv"
    path.write_bytes(_tricky_csv())
    whole = [_row_key(r) for r in read_rows(path)]
    assert len(whole) >= 8 and any("cells" in (k[3] or "") for k in whole) and any("NUL" in (k[3] or "") for k in whole)
    for size in (1, 30, 100, 200, 140000, 10**7):
        assert _all_rows(path, size, ship) == whole, size


def test_folder_partitions_read_the_same_rows():
    whole = [_row_key(r) for r in read_rows(CASES)]
    assert any(k[3] for k in whole)  # tests/cases/bad/ gives error rows too
    assert _all_rows(CASES, 20000) == whole
    assert len(list(split_input(CASES, 20000))) > 5


def test_split_input_refuses_what_the_local_batch_refuses(tmp_path):
    from exportkb.errors import ExportKBError

    bad = tmp_path / "erp.csv"
    bad.write_text("case,destination_country\nx,DE\n", encoding="utf-8")
    with pytest.raises(ExportKBError, match="destination_country"):
        split_input(bad)
    with pytest.raises(ExportKBError, match="no such file"):
        split_input(tmp_path / "missing.jsonl")


def test_a_changed_input_file_is_refused_by_the_worker(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_bytes(JSONL_TRICKY)
    part = next(iter(split_input(path, 10**6)))
    path.write_bytes(JSONL_TRICKY + b"\n")
    with pytest.raises(PartitionFailed, match="not the file the client split"):
        list(part.rows())


# --------------------------------------------------------------------------- on a LocalCluster
@pytest.fixture(scope="module")
def client():
    with connect(local_workers=2) as c:
        yield c


def _outputs(tmp_path: Path, name: str, args: list[str]) -> tuple[int, bytes, bytes, str]:
    out, err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
    code, _, stderr = _invoke(["batch", *args, "--out", str(out), "--errors", str(err)])
    return code, out.read_bytes(), err.read_bytes(), stderr.replace(str(err), "ERRORS")


def _same_as_local(tmp_path: Path, args: list[str], dask_args: list[str]) -> tuple[bytes, bytes]:
    local = _outputs(tmp_path, "local", [*args, "--jobs", "2", "--chunk", "16"])
    remote = _outputs(tmp_path, "dask", [*args, "--backend", "dask", *dask_args])
    assert local[0] in (0, 1), local[3]
    assert remote == local  # exit code, output bytes, error bytes, summary
    assert local[1]
    return local[1], local[2]


def test_regression_corpus_jsonl_is_byte_identical(tmp_path, client):
    log = _corpus_jsonl(tmp_path / "corpus.jsonl")
    out, err = _same_as_local(tmp_path, [str(log)], ["--scheduler", client.scheduler.address,
                                                     "--partition-bytes", "20000"])
    assert len(out.splitlines()) == len(GOOD_FILES) and len(err.splitlines()) == 2


def test_regression_corpus_folder_is_byte_identical(tmp_path, client):
    out, err = _same_as_local(tmp_path, [str(CASES)], ["--scheduler", client.scheduler.address,
                                                       "--partition-bytes", "30000"])
    assert err  # the bad/ fixtures are error rows, identical too


def test_csv_with_quoted_newlines_is_byte_identical(tmp_path, client):
    path = tmp_path / "erp.csv"
    path.write_bytes(_tricky_csv())
    _same_as_local(tmp_path, [str(path), "--format", "csv"], ["--scheduler", client.scheduler.address,
                                                              "--partition-bytes", "40"])


def test_proofs_all_is_byte_identical(tmp_path, client):
    log = _corpus_jsonl(tmp_path / "small.jsonl", GOOD_FILES[::25], bad_rows=False)
    out, _ = _same_as_local(tmp_path, [str(log), "--proofs", "all"],
                            ["--scheduler", client.scheduler.address, "--partition-bytes", "3000"])
    assert all('"proofs"' in line for line in out.decode().splitlines())


def test_ten_thousand_generated_cases_local_workers_2(tmp_path):
    """The issue's command: `--backend dask --local-workers 2` (its own LocalCluster) on 10,000 cases."""
    from benchmarks.generate import generate

    log = tmp_path / "gen.jsonl"
    with log.open("w", encoding="utf-8") as fh:
        for case in generate(10_000):
            fh.write(json.dumps(case) + "\n")
    out, _ = _same_as_local(tmp_path, [str(log)], ["--local-workers", "2", "--partition-bytes", "400000"])
    assert len(out.splitlines()) == 10_000


def test_library_backend_with_rows_in_memory(client):
    rows = [Row(n, read_document(f)[0], source=str(f)) for n, f in enumerate(GOOD_FILES[:60], start=1)]
    local, remote = [], []
    s1 = run_batch(rows, chunk=7, on_result=local.append)
    backend = DaskBackend(client, partition_rows=9)
    s2 = run_batch(rows, chunk=7, on_result=remote.append, backend=backend)
    assert [(r.line, r.text, r.error) for r in remote] == [(r.line, r.text, r.error) for r in local]
    assert s1.to_json() == s2.to_json()
    assert len(backend.timings) == 7  # 60 rows in partitions of 9


def test_a_client_version_given_in_advance_is_still_checked_against_every_worker(client):
    """The CLI parses the client's KB while the cluster starts and hands its version to the backend;
    a version that is not the workers' KB is refused before any row is solved, never trusted."""
    rows = [Row(n, read_document(f)[0], source=str(f)) for n, f in enumerate(GOOD_FILES[:3], start=1)]
    got: list = []
    with pytest.raises(KBVersionMismatch, match="refusing to run: 2 of 2 Dask worker"):
        run_batch(rows, on_result=got.append, backend=DaskBackend(client, kb_version="000000000000"))
    assert got == []
    right = DaskBackend(client, kb_version=KnowledgeBase.load().version)
    run_batch(rows, on_result=got.append, backend=right)
    assert [r.line for r in got] == [1, 2, 3] and all(r.error is None for r in got)


def test_a_failing_partition_names_the_partition_and_row(tmp_path, client):
    """A bug (not a lost worker): the chunk holding line 7 raises on the workers; the run stops."""
    log = _corpus_jsonl(tmp_path / "corpus.jsonl", GOOD_FILES[:30], bad_rows=False)

    def install(line: int) -> None:
        from exportkb.batch import engine

        real = engine.__dict__.setdefault("_real_solve_chunk", engine._solve_chunk)

        def failing(rows, *a, **k):
            if any(r.line == line for r in rows):
                raise ZeroDivisionError("injected")
            return real(rows, *a, **k)
        engine._solve_chunk = failing

    def restore() -> None:
        from exportkb.batch import engine

        engine._solve_chunk = engine.__dict__.pop("_real_solve_chunk", engine._solve_chunk)

    client.run(install, 7)
    try:
        out = tmp_path / "out.jsonl"
        code, _, stderr = _invoke(["batch", str(log), "--out", str(out), "--backend", "dask",
                                   "--scheduler", client.scheduler.address, "--partition-bytes", "4000"])
        with pytest.raises(PartitionFailed) as info:
            run_batch(split_input(log, 4000), on_result=lambda r: None, backend=DaskBackend(client))
    finally:
        client.run(restore)
    assert code == 3 and not out.exists() and "Traceback" not in stderr
    message = str(info.value)
    assert re.search(r"partition \d+ \(lines \d+–\d+\) failed at line 7 \(", message), message
    assert "ZeroDivisionError: injected" in message and "partition" in stderr and "line 7" in stderr


def test_a_worker_with_another_kb_version_is_refused(tmp_path, client):
    other = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", other)
    first = sorted(other.rglob("*.lp"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n% a changed KB\n", encoding="utf-8")
    addr = sorted(client.scheduler_info()["workers"])[0]

    def swap(kb_dir: str | None) -> None:  # this worker's installed KB is now another one
        from exportkb.batch import cluster
        from exportkb.kb import KnowledgeBase

        if kb_dir is None:
            cluster._CACHE.kbs.pop(None, None)
        else:
            cluster._CACHE.kbs[None] = KnowledgeBase.load(kb_dir)

    log = _corpus_jsonl(tmp_path / "corpus.jsonl", GOOD_FILES[:40], bad_rows=False)
    client.run(swap, str(other), workers=[addr])
    try:
        with pytest.raises(KBVersionMismatch, match=f"refusing to run: 1 of 2 .*{re.escape(addr)}"):
            run_batch(split_input(log), on_result=lambda r: None, backend=DaskBackend(client))

        class Unchecked(DaskBackend):  # as if the worker had joined after the check
            def check_workers(self, kb_path, version):
                return 2

        with pytest.raises(KBVersionMismatch, match="has KB version"):
            run_batch(split_input(log, 500), on_result=lambda r: None, backend=Unchecked(client))
    finally:
        client.run(swap, None, workers=[addr])


def test_a_killed_worker_loses_nothing(tmp_path):
    """SIGKILL one of two workers while it holds partitions: they are solved again elsewhere."""
    from benchmarks.generate import generate

    log = tmp_path / "gen.jsonl"
    log.write_text("".join(json.dumps(c) + "\n" for c in generate(1200)), encoding="utf-8")
    expected = []
    run_batch(read_rows(log), on_result=expected.append)

    def slow_down() -> None:  # every chunk takes 0.3 s longer, so partitions are in flight when we kill
        import time

        from exportkb.batch import engine

        real = engine._solve_chunk
        engine._solve_chunk = lambda *a, **k: (time.sleep(0.3), real(*a, **k))[1]

    with connect(local_workers=2) as c:
        c.run(slow_down)
        pids = c.run(os.getpid)
        killed: list[tuple[str, list]] = []
        got = []

        def on_result(res) -> None:
            got.append(res)
            if not killed:
                busy = {a: keys for a, keys in c.processing().items() if keys}
                addr = sorted(busy)[0]
                killed.append((addr, list(busy[addr])))
                os.kill(pids[addr], signal.SIGKILL)

        backend = DaskBackend(c)
        summary = run_batch(split_input(log, 20000), on_result=on_result, backend=backend)
    assert killed and killed[0][1], "no worker held a partition when one was killed"
    addr = killed[0][0]
    lost = {int(k.split("-")[2]) for k in killed[0][1]}
    solved_by = {number: worker for number, _, worker, _, _ in backend.timings}
    assert all(solved_by[n] != addr for n in lost)  # the killed worker's partitions came from another worker
    assert [(r.line, r.text, r.error) for r in got] == [(r.line, r.text, r.error) for r in expected]
    assert summary.cases == 1200 and len({r.line for r in got}) == 1200  # complete, no duplicates


def test_dataframe_map_partitions_equals_the_csv_batch(tmp_path, client):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    from .test_batch import _csv_row

    rows = [r for r in (_csv_row(dict(read_document(f)[0])) for f in GOOD_FILES) if r is not None][:80]
    path = tmp_path / "erp.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(CSV_COLUMNS))
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "out.csv"
    code, _, stderr = _invoke(["batch", str(path), "--format", "csv", "--out", str(out), "--quiet"])
    assert code in (0, 1), stderr
    want = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))[1:]

    df = pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)
    df.index = range(2, len(df) + 2)  # the CSV reader's line numbers: the header is line 1
    cells = lambda frame: [["" if v is None else str(v) for v in row[:-1]]  # noqa: E731
                           for row in frame.itertuples(index=False, name=None)]
    plain = determine_frame(df)
    assert list(plain.columns)[-1] == "error" and plain["error"].isna().all()
    assert cells(plain) == want
    ddf = dd.from_pandas(df, npartitions=4)
    with client.as_current():
        got = ddf.map_partitions(determine_frame, meta=frame_meta()).compute()
    assert cells(got) == want


def test_dataframe_bad_rows_and_columns():
    pd = pytest.importorskip("pandas")
    from exportkb.errors import ExportKBError

    frame = determine_frame(pd.DataFrame({"case": ["ok", "bad"], "date": ["2025-06-01", "2025-06-01"],
                                          "to": ["DE", "XX"], "eccn": ["3A090.a", "3A090.a"],
                                          "quantity": [8.0, float("nan")], "item_id": ["gpus", "gpus"]}))
    assert frame["error"].iloc[0] is None and frame["case"].iloc[0] == "ok"
    assert frame["line"].iloc[1] == 1 and "XX" in frame["error"].iloc[1]
    with pytest.raises(ExportKBError, match="unknown column"):
        determine_frame(pd.DataFrame({"destination": ["DE"]}))


def test_cli_refuses_dask_options_without_the_backend(tmp_path):
    log = _corpus_jsonl(tmp_path / "x.jsonl", GOOD_FILES[:2], bad_rows=False)
    for args, text in ((["--scheduler", "tcp://127.0.0.1:1"], "needs --backend dask"),
                       (["--backend", "dask", "--jobs", "2"], "--jobs is for --backend local"),
                       (["--backend", "dask", "--local-workers", "0"], "at least 1"),
                       (["--backend", "dask", "--scheduler", "tcp://x:1", "--local-workers", "2"], "exclude")):
        code, _, stderr = _invoke(["batch", str(log), *args])
        assert code == 2 and text in stderr and "Traceback" not in stderr, (args, stderr)


def test_unreachable_scheduler_is_a_clear_error():
    from exportkb.errors import ExportKBError

    with pytest.raises(ExportKBError, match="cannot connect"):
        with connect("tcp://127.0.0.1:9", timeout=2):
            pass


def test_ci_installs_dask_through_the_test_extra():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    test_extra = text.split("\ntest = [", 1)[1].split("]\n", 1)[0]
    assert "dask[distributed" in test_extra
    assert "'.[test]'" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_local_cluster_runs_without_dasks_dashboard_diagnostics(client):
    """--local-workers' workers have the profiler, the 20 ms tick and the GIL monitor off (QUIET_DIAGNOSTICS):
    they cost a batch a tenth of its time on 2 cores (benchmarks/RESULTS.md, "Dask backend")."""
    import dask
    from exportkb.batch.cluster import QUIET_DIAGNOSTICS

    def settings() -> dict:
        return {k: dask.config.get(k) for k in QUIET_DIAGNOSTICS}

    for address, got in client.run(settings).items():
        assert got == QUIET_DIAGNOSTICS, address


def test_the_quiet_diagnostics_end_with_the_local_cluster():
    """The settings hold while the LocalCluster runs, and the process's own Dask configuration is back after."""
    import dask
    from exportkb.batch.cluster import QUIET_DIAGNOSTICS

    before = {k: dask.config.get(k) for k in QUIET_DIAGNOSTICS}
    with connect(local_workers=1):
        assert dask.config.get("distributed.worker.profile.enabled") is False
    assert {k: dask.config.get(k) for k in QUIET_DIAGNOSTICS} == before
