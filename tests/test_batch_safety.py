"""`exportkb batch` never loses or half-writes a file, and one bad row never stops the batch.

* outputs are checked before anything is written: an output that is the input, a symbolic link,
  a directory or in a missing directory is refused (exit 2) and every file is left as it was;
* results go to a temporary file renamed on success: a full disk, SIGINT (exit 130), SIGTERM
  (exit 143) or a dead worker (exit 3) leave the previous output unchanged and no temporary file;
* two runs writing the same output cannot interleave (the second is refused);
* a worker killed mid-batch (SIGKILL, as the OOM killer does) is reported with its chunk and
  lines instead of hanging ``--jobs 2``;
* every kind of bad row (extra CSV cell, huge cell, 5,000-digit integer, deep nesting, an
  unreadable file in a folder ...) becomes one error row with its line number.

Runs that must be interrupted or must lose a worker are run in a subprocess with a timeout, so
a regression (a hang) fails the test instead of hanging the suite. Their slow or fatal chunk is
made by patching ``exportkb.batch.engine._solve_chunk`` in that subprocess (forked workers inherit it).
"""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import exportkb.cli as cli
from exportkb.batch import engine as batch_mod
from exportkb.case.loader import read_document
from exportkb.batch.outputs import OutputLock

from .conftest import CASES

GOOD_FILES = sorted(p for p in CASES.rglob("*.yaml") if "bad" not in p.relative_to(CASES).parts)
PREVIOUS = '{"previous": "run"}\n'


def _invoke(args: list[str]):
    result = CliRunner().invoke(cli.main, args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> Path:
    """A JSONL log of 24 regression cases (expectations removed)."""
    lines = []
    for p in GOOD_FILES[:24]:
        data, _ = read_document(p)
        data = dict(data)
        data.pop("expect", None)
        lines.append(json.dumps(data, default=str))
    path = tmp_path_factory.mktemp("log") / "log.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _leftovers(folder: Path) -> list[str]:
    """Temporary or lock files an output left behind."""
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name or p.name.endswith(".lock"))


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("option", ["--out", "--errors"])
def test_output_that_is_the_input_is_refused(tmp_path, log, option):
    src = tmp_path / "x.jsonl"
    src.write_bytes(log.read_bytes())
    args = ["batch", str(src), option, str(src)] + (["--out", str(tmp_path / "o.jsonl")] if option == "--errors" else [])
    code, stdout, stderr = _invoke(args)
    assert code == 2, stderr
    assert "is the input file" in stderr and "Traceback" not in stderr
    assert src.read_bytes() == log.read_bytes()  # the input is intact
    assert not (tmp_path / "o.jsonl").exists()


def test_output_that_is_the_input_through_another_name_is_refused(tmp_path, log):
    src = tmp_path / "x.jsonl"
    src.write_bytes(log.read_bytes())
    os.link(src, tmp_path / "hard.jsonl")
    code, _, stderr = _invoke(["batch", str(src), "--out", str(tmp_path / "hard.jsonl")])
    assert code == 2 and "is the input file" in stderr
    assert src.read_bytes() == log.read_bytes()


@pytest.mark.parametrize("bad_input", ["missing.jsonl", "bad-header.csv", "unknown.txt"])
def test_existing_output_untouched_when_input_is_unusable(tmp_path, bad_input):
    (tmp_path / "bad-header.csv").write_text("case,nonsense\nx,y\n", encoding="utf-8")
    (tmp_path / "unknown.txt").write_text("{}\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text(PREVIOUS, encoding="utf-8")
    errors = tmp_path / "out.jsonl.errors.jsonl"
    errors.write_text(PREVIOUS, encoding="utf-8")
    code, _, stderr = _invoke(["batch", str(tmp_path / bad_input), "--out", str(out)])
    assert code == 2 and "Traceback" not in stderr
    assert out.read_text(encoding="utf-8") == PREVIOUS and errors.read_text(encoding="utf-8") == PREVIOUS
    assert _leftovers(tmp_path) == []


def test_symlink_at_output_path_is_refused(tmp_path, log):
    target = tmp_path / "elsewhere.jsonl"
    target.write_text(PREVIOUS, encoding="utf-8")
    link = tmp_path / "out.jsonl"
    link.symlink_to(target)
    code, _, stderr = _invoke(["batch", str(log), "--out", str(link)])
    assert code == 2 and "symbolic link" in stderr and "Traceback" not in stderr
    assert target.read_text(encoding="utf-8") == PREVIOUS and link.is_symlink()


def test_missing_output_directory_is_refused(tmp_path, log):
    out = tmp_path / "no" / "such" / "out.jsonl"
    code, _, stderr = _invoke(["batch", str(log), "--out", str(out)])
    assert code == 2 and "does not exist" in stderr and str(out.parent) in stderr
    assert "Traceback" not in stderr


def test_out_and_errors_must_differ(tmp_path, log):
    out = tmp_path / "out.jsonl"
    code, _, stderr = _invoke(["batch", str(log), "--out", str(out), "--errors", str(out)])
    assert code == 2 and "--errors" in stderr and "--out" in stderr
    assert not out.exists()


def test_output_inside_the_input_folder_as_a_case_file_is_refused(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "a.yaml").write_text(GOOD_FILES[0].read_text(encoding="utf-8"), encoding="utf-8")
    code, _, stderr = _invoke(["batch", str(folder), "--out", str(folder / "results.json")])
    assert code == 2 and "inside the input folder" in stderr
    assert sorted(p.name for p in folder.iterdir()) == ["a.yaml"]


# --------------------------------------------------------------------------- atomic replace
def test_good_run_replaces_the_output_and_leaves_no_temporary_file(tmp_path, log):
    out = tmp_path / "out.jsonl"
    out.write_text(PREVIOUS, encoding="utf-8")
    code, _, stderr = _invoke(["batch", str(log), "--out", str(out), "--quiet"])
    assert code == 0, stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 24 and PREVIOUS.strip() not in lines
    assert _leftovers(tmp_path) == []


def test_full_disk_keeps_the_previous_output_and_exits_3(tmp_path, log, monkeypatch):
    """A write failing with ENOSPC part-way: message, exit 3, previous files intact, no temporary file."""
    out = tmp_path / "out.jsonl"
    out.write_text(PREVIOUS, encoding="utf-8")
    errors = tmp_path / "out.jsonl.errors.jsonl"
    errors.write_text(PREVIOUS, encoding="utf-8")
    real, calls = batch_mod.Writer.write_result, []

    def write_result(self, res):
        calls.append(res.line)
        if len(calls) == 5:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, res)

    monkeypatch.setattr(batch_mod.Writer, "write_result", write_result)
    code, _, stderr = _invoke(["batch", str(log), "--out", str(out), "--chunk", "4", "--quiet"])
    assert code == 3, stderr
    assert "No space left on device" in stderr and str(out) in stderr and "unchanged" in stderr
    assert out.read_text(encoding="utf-8") == PREVIOUS and errors.read_text(encoding="utf-8") == PREVIOUS
    assert _leftovers(tmp_path) == []


def test_second_writer_of_the_same_output_is_refused(tmp_path, log):
    out = tmp_path / "out.jsonl"
    out.write_text(PREVIOUS, encoding="utf-8")
    held = OutputLock(out, "--out")  # another run, in the middle of writing out.jsonl
    held.acquire()
    try:
        code, _, stderr = _invoke(["batch", str(log), "--out", str(out), "--quiet"])
    finally:
        held.release()
    assert code == 2 and "another run is writing" in stderr
    assert out.read_text(encoding="utf-8") == PREVIOUS
    code, _, stderr = _invoke(["batch", str(log), "--out", str(out), "--quiet"])  # lock released: runs
    assert code == 0, stderr
    assert _leftovers(tmp_path) == []


def test_temporary_file_of_a_killed_run_is_removed_by_the_next(tmp_path, log):
    out = tmp_path / "out.jsonl"
    stale = tmp_path / ".out.jsonl.tmp-999999"  # what `kill -9` of an earlier run leaves
    stale.write_text('{"half": ', encoding="utf-8")
    code, _, stderr = _invoke(["batch", str(log), "--out", str(out), "--quiet"])
    assert code == 0, stderr
    assert not stale.exists() and _leftovers(tmp_path) == []


# --------------------------------------------------------------------------- signals, dead workers
HARNESS = r"""
import os, signal, sys, time
import exportkb.batch.engine as b
mode, line, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3]
real = b._solve_chunk
def patched(rows, *args, **kwargs):
    if any(r.line == line for r in rows):
        if mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        open(marker, "w").close()
        time.sleep(120)
    return real(rows, *args, **kwargs)
b._solve_chunk = patched
from exportkb.cli import main
main(sys.argv[4:], prog_name="exportkb")
"""


def _start(mode: str, line: int, marker: Path, args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", HARNESS, mode, str(line), str(marker), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for(marker: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > end:
            proc.kill()
            pytest.fail(f"the run never reached the slow chunk: {proc.communicate()}")
        time.sleep(0.05)


@pytest.mark.parametrize("jobs,sig,code", [("1", signal.SIGINT, 130), ("2", signal.SIGINT, 130),
                                           ("1", signal.SIGTERM, 143)])
def test_interrupt_exits_128_plus_signal_and_keeps_the_previous_output(tmp_path, log, jobs, sig, code):
    out = tmp_path / "out.jsonl"
    out.write_text(PREVIOUS, encoding="utf-8")
    marker = tmp_path / "reached"
    proc = _start("sleep", 14, marker, ["batch", str(log), "--out", str(out), "--jobs", jobs, "--chunk", "4",
                                        "--quiet"])
    _wait_for(marker, proc)
    time.sleep(0.3)  # let the earlier chunks reach the temporary file
    # Ctrl-C signals the whole process group; `kill` (SIGTERM) the main process only
    os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)
    try:
        _, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("the interrupted batch did not stop")
    assert proc.returncode == code, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert out.read_text(encoding="utf-8") == PREVIOUS
    assert _leftovers(tmp_path) == []


def test_killed_worker_is_reported_with_its_chunk_and_does_not_hang(tmp_path, log):
    out = tmp_path / "out.jsonl"
    out.write_text(PREVIOUS, encoding="utf-8")
    proc = _start("kill", 10, tmp_path / "unused", ["batch", str(log), "--out", str(out), "--jobs", "2",
                                                   "--chunk", "4", "--quiet"])
    try:
        _, stderr = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("batch --jobs 2 hung after a worker was killed")
    assert proc.returncode == 3, stderr
    # line 10 is in the third chunk of four lines: lines 9-12
    assert "died (killed by SIGKILL) while solving chunk 3 (lines 9–12)" in stderr, stderr
    assert "Traceback" not in stderr
    assert out.read_text(encoding="utf-8") == PREVIOUS
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------- bad rows
def _good_json(i: int = 0) -> str:
    data, _ = read_document(GOOD_FILES[i])
    data = dict(data)
    data.pop("expect", None)
    return json.dumps(data, default=str)


def _with_tpp(text: str, number: str) -> str:
    """The case JSON with its first item's tpp written as the literal JSON number ``number``."""
    data = json.loads(text)
    data["items"][0]["tpp"] = "@TPP@"
    return json.dumps(data).replace('"@TPP@"', number)


def test_every_kind_of_bad_jsonl_line_is_one_error_row(tmp_path):
    good = _good_json()
    lines = [good,
             '{"case": "huge", "n": ' + "9" * 5000 + "}",         # 2: integer over Python's 4,300 digits
             "[" * 100_000 + "]" * 100_000,                        # 3: nested 10^5 deep
             _with_tpp(good, "1e999999999"),                      # 4: a huge exponent in a number
             "{not json",                                          # 5
             good]
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for jobs in ("1", "2"):
        out, errors = tmp_path / f"out{jobs}.jsonl", tmp_path / f"err{jobs}.jsonl"
        code, _, stderr = _invoke(["batch", str(log), "--out", str(out), "--errors", str(errors), "--jobs", jobs,
                                   "--chunk", "2", "--quiet"])
        assert code == 0, stderr
        errs = [json.loads(x) for x in errors.read_text(encoding="utf-8").splitlines()]
        assert [e["line"] for e in errs] == [2, 3, 4, 5]
        assert all(f"log.jsonl:{e['line']}" in e["error"] and "(fix:" in e["error"] for e in errs)
        assert "digits" in errs[0]["error"] and "nested too deeply" in errs[1]["error"]
        assert [json.loads(x)["line"] for x in out.read_text(encoding="utf-8").splitlines()] == [1, 6]


def test_every_kind_of_bad_csv_row_is_one_error_row(tmp_path):
    rows = ["case,date,to,eccn,quantity",
            "a,2025-06-01,DE,3A090.a,10",                  # 2 good
            "b,2025-06-01,DE,3A090.a,10,EXTRA",            # 3 an extra cell
            "c,2025-06-01,DE,3A090.a," + "9" * 140_000,    # 4 a cell over 128 KiB
            "d,2025-06-01,DE,3A090.a,1e999999999",         # 5 a huge exponent in a count
            "e,2025-06-01,DE,3A090.a,\x00",                # 6 NUL
            "f,2025-06-01,DE,3A090.a,10"]                  # 7 good
    src = tmp_path / "erp.csv"
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    code, _, stderr = _invoke(["batch", str(src), "--out", str(out), "--errors", str(errors), "--quiet"])
    assert code == 0, stderr
    errs = [json.loads(x) for x in errors.read_text(encoding="utf-8").splitlines()]
    assert [e["line"] for e in errs] == [3, 4, 5, 6]
    assert all(f"erp.csv:{e['line']}" in e["error"] and "(fix:" in e["error"] for e in errs)
    assert "6 cells, but the header names 5 columns" in errs[0]["error"]
    assert "field larger than field limit" in errs[1]["error"]
    assert [json.loads(x)["case"] for x in out.read_text(encoding="utf-8").splitlines()] == ["a", "f"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file_in_a_folder_is_one_error_row(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    for name in ("1.yaml", "2.yaml", "3.yaml"):
        (folder / name).write_text(GOOD_FILES[0].read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "2.yaml").chmod(0)
    try:
        rows = list(batch_mod.read_rows(folder))
    finally:
        (folder / "2.yaml").chmod(0o644)
    assert [r.line for r in rows] == [1, 2, 3]
    assert rows[1].error and "2.yaml" in rows[1].error and "cannot read" in rows[1].error
    assert rows[0].error is None and rows[2].error is None


def test_file_that_raises_oserror_in_a_folder_is_one_error_row(tmp_path, monkeypatch):
    """The same as an unreadable file, where the tests run as root: read_document raising OSError."""
    folder = tmp_path / "cases"
    folder.mkdir()
    for name in ("1.yaml", "2.yaml", "3.yaml"):
        (folder / name).write_text(GOOD_FILES[0].read_text(encoding="utf-8"), encoding="utf-8")
    real = batch_mod.read_document

    def read_document(path):
        if path.name == "2.yaml":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path)

    monkeypatch.setattr(batch_mod, "read_document", read_document)
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    code, _, stderr = _invoke(["batch", str(folder), "--out", str(out), "--errors", str(errors), "--quiet"])
    assert code in (0, 1), stderr
    errs = [json.loads(x) for x in errors.read_text(encoding="utf-8").splitlines()]
    assert [e["line"] for e in errs] == [2] and "2.yaml" in errs[0]["error"] and "Permission denied" in errs[0]["error"]
    assert [json.loads(x)["line"] for x in out.read_text(encoding="utf-8").splitlines()] == [1, 3]


def test_an_unexpected_exception_in_one_case_costs_only_that_row(tmp_path, log, monkeypatch):
    """Whatever a case's failure (here: the solver raising a non-ExportKBError for one case), it is
    that row's error: the chunk is re-solved case by case and the other rows are unaffected."""
    from exportkb.solve.solver import Solver

    target = json.loads(log.read_text(encoding="utf-8").splitlines()[4])["case"]
    real_many, real_one = Solver.determine_many, Solver.determine

    def determine_many(self, cases, *args, **kwargs):
        if any(c.case == target for c in cases):
            raise OverflowError("cannot convert a huge value")
        return real_many(self, cases, *args, **kwargs)

    def determine(self, case, *args, **kwargs):
        if case.case == target:
            raise OverflowError("cannot convert a huge value")
        return real_one(self, case, *args, **kwargs)

    monkeypatch.setattr(Solver, "determine_many", determine_many)
    monkeypatch.setattr(Solver, "determine", determine)
    got = []
    summary = batch_mod.run_batch(batch_mod.read_rows(log), chunk=8, on_result=got.append)
    assert [r.line for r in got] == list(range(1, 25))
    assert [r.line for r in got if r.error] == [5]
    assert "OverflowError" in got[4].error and "log.jsonl:5" in got[4].error
    assert summary.cases == 23 and summary.errors == 1
