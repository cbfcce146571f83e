"""`exportkb batch`: one result per good row, in input order; bad rows to the error file.

Inputs are built from the regression cases (tests/cases, not bad/) so every
row is a case the KB is known to handle; each row's expected determination is
obtained independently by solving that case alone with ``Solver.determine`` —
the batch path (chunks, one grounding per chunk, worker processes) must give
the same answer as solving the case by itself.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import exportkb.cli as cli
from exportkb.batch import CSV_COLUMNS, CSV_OUT_COLUMNS, Result, read_rows, run_batch
from exportkb.case.loader import case_from_data, read_document

from .conftest import CASES

GOOD_FILES = sorted(p for p in CASES.rglob("*.yaml") if "bad" not in p.relative_to(CASES).parts)
#: a cap keeps the suite fast (a few hundred rows at most)
MAX_ROWS = 120


def _case_data(path: Path) -> dict:
    data, _ = read_document(path)
    data = dict(data)
    data.pop("expect", None)  # this file tests batching, not the regression expectations
    return data


@pytest.fixture(scope="module")
def good_data() -> list[dict]:
    assert GOOD_FILES, "no regression cases found"
    return [_case_data(p) for p in GOOD_FILES[:MAX_ROWS]]


def _invoke(args: list[str]):
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    result = CliRunner().invoke(cli.main, args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def mixed_log(tmp_path_factory, good_data) -> tuple[Path, dict[int, dict], dict[int, str]]:
    """A JSONL log: the good cases, with a malformed JSON line and an invalid case inserted,
    and a blank line (skipped). Returns (path, good line → data, bad line → kind)."""
    lines: list[str] = []
    good: dict[int, dict] = {}
    bad: dict[int, str] = {}
    for i, data in enumerate(good_data):
        if i == 3:
            lines.append('{"case": "broken", "date": ')  # malformed JSON
            bad[len(lines)] = "json"
        if i == 7:
            lines.append("")  # blank line: neither result nor error
        if i == 10:
            invalid = dict(good_data[0], case="invalid-destination", to="XX")
            lines.append(json.dumps(invalid, default=str))
            bad[len(lines)] = "case"
        lines.append(json.dumps(data, default=str))
        good[len(lines)] = data
    path = tmp_path_factory.mktemp("log") / "log.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, good, bad


@pytest.fixture(scope="module")
def jsonl_run(mixed_log, tmp_path_factory):
    path, _, _ = mixed_log
    out = tmp_path_factory.mktemp("out") / "results.jsonl"
    errors = out.with_name("errors.jsonl")
    code, stdout, stderr = _invoke(["batch", str(path), "--out", str(out), "--errors", str(errors),
                                    "--chunk", "25"])
    return code, stdout, stderr, out, errors


def test_jsonl_one_result_per_good_line_in_order(mixed_log, jsonl_run):
    _, good, _ = mixed_log
    code, _, stderr, out, _ = jsonl_run
    assert code == 0, stderr
    results = _read_jsonl(out)
    assert [r["line"] for r in results] == sorted(good)
    assert [r["case"] for r in results] == [good[n]["case"] for n in sorted(good)]


def test_jsonl_results_equal_single_case_solving(mixed_log, jsonl_run, kb, solver):
    """Chunked solving must not let cases meet: each row equals its case solved alone."""
    _, good, _ = mixed_log
    # a row with `reform:` is solved under other law (its kb_version says which); this plain solver cannot
    results = [r for r in _read_jsonl(jsonl_run[3]) if not good[r["line"]].get("reform")]
    strip = lambda d: {k: v for k, v in d.items() if k not in ("line", "source")}  # noqa: E731
    # every row against all cases solved in ONE grounding in reverse order (other neighbours) ...
    cases = [case_from_data(good[r["line"]], kb) for r in results]
    reverse = list(solver.determine_many(cases[::-1]))[::-1]
    for r, det in zip(results, reverse):
        assert strip(r) == strip(det.to_json()), r["case"]
    # ... and a sample against the case solved alone (kept small: a fresh grounding each)
    for r, case in list(zip(results, cases))[::8]:
        assert strip(r) == strip(solver.determine(case).to_json()), r["case"]


def test_error_file_lists_bad_lines(mixed_log, jsonl_run):
    _, _, bad = mixed_log
    errors = _read_jsonl(jsonl_run[4])
    assert [e["line"] for e in errors] == sorted(bad)
    by_line = {e["line"]: e["error"] for e in errors}
    json_line = next(n for n, k in bad.items() if k == "json")
    case_line = next(n for n, k in bad.items() if k == "case")
    assert "invalid JSON" in by_line[json_line] and f":{json_line}" in by_line[json_line]
    assert "XX" in by_line[case_line] and "to" in by_line[case_line]


def test_summary_counts(mixed_log, jsonl_run):
    """The printed summary and the library Summary agree with the output they describe."""
    path, good, bad = mixed_log
    results = _read_jsonl(jsonl_run[3])
    seen: list[Result] = []
    summary = run_batch(read_rows(path), chunk=40, on_result=seen.append).to_json()
    assert summary["cases"] == len(good) == len(results)
    assert summary["errors"] == len(bad)
    assert summary["license_required"] == sum(
        any(i["license_required"] for i in r["items"].values()) for r in results)
    by_exception: dict[str, int] = {}
    for r in results:
        for item in r["items"].values():
            for x in item["exceptions_available"]:
                by_exception[x] = by_exception.get(x, 0) + 1
    assert summary["items_by_exception"] == dict(sorted(by_exception.items()))
    assert summary["expect_failures"] == 0
    stderr = jsonl_run[2]
    assert f"cases: {len(good)}" in stderr and f"errors: {len(bad)}" in stderr
    assert f"license required: {summary['license_required']}" in stderr


def test_expect_failure_is_counted_and_exits_1(tmp_path, good_data, kb, solver):
    """A row whose `expect:` contradicts its determination: counted, mismatch in the output, exit 1."""
    data = dict(good_data[0])
    det = solver.determine(case_from_data(data, kb))
    item_id, item = next(iter(det.to_json()["items"].items()))
    data["expect"] = {item_id: {"license_required": not item["license_required"]}}
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps(good_data[1], default=str) + "\n" + json.dumps(data, default=str) + "\n")
    out = tmp_path / "out.jsonl"
    code, _, stderr = _invoke(["batch", str(log), "--out", str(out)])
    assert code == 1, stderr
    results = _read_jsonl(out)
    assert "expect_mismatches" not in results[0]
    assert results[1]["expect_mismatches"] and "expect failures: 1" in stderr


def test_jobs_2_is_byte_identical_to_jobs_1(mixed_log, tmp_path):
    path, _, _ = mixed_log
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.jsonl"
        err = tmp_path / f"err{jobs}.jsonl"
        code, _, stderr = _invoke(["batch", str(path), "--out", str(out), "--errors", str(err),
                                   "--jobs", jobs, "--chunk", "16", "--quiet"])
        assert code == 0, stderr
        outs.append((out.read_bytes(), err.read_bytes()))
    assert outs[0][0] and outs[0] == outs[1]


# --------------------------------------------------------------------------- CSV
def _csv_row(data: dict) -> dict[str, str] | None:
    """The regression case as one CSV row (cases with one item and one party only)."""
    if len(data.get("items", [])) != 1 or len(data.get("parties", [])) != 1:
        return None
    row: dict[str, str] = {}
    for col, target in CSV_COLUMNS.items():
        cur = data
        for part in target.replace("[0]", ".0").split("."):
            if part == "0":
                cur = cur[0] if isinstance(cur, list) and cur else None
            elif isinstance(cur, dict):
                cur = cur.get(part)
            else:
                cur = None
            if cur is None:
                break
        if cur is not None and not isinstance(cur, (dict, list)):
            row[col] = str(cur).lower() if isinstance(cur, bool) else str(cur)
    # a CSV row carries only what the columns carry: skip cases with other fields
    covered = _case_data_from_row(row)
    return row if _same_fields(covered, data) else None


def _case_data_from_row(row: dict[str, str]) -> dict:
    from exportkb.batch import csv_row_to_case
    return csv_row_to_case(row, 0)


def _same_fields(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_same_fields(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_fields(x, y) for x, y in zip(a, b))
    return str(a).lower() == str(b).lower()


def test_csv_in_csv_out(tmp_path, good_data, kb, solver):
    rows = [r for r in (_csv_row(d) for d in good_data) if r is not None]
    assert len(rows) >= 10, "too few one-item, one-party regression cases to test CSV"
    path = tmp_path / "erp.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(CSV_COLUMNS))
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "out.csv"
    code, _, stderr = _invoke(["batch", str(path), "--format", "csv", "--out", str(out), "--quiet"])
    assert code == 0, stderr
    with out.open(newline="", encoding="utf-8") as fh:
        got = list(csv.reader(fh))
    assert got[0] == CSV_OUT_COLUMNS
    body = got[1:]
    assert len(body) == len(rows)  # one item per row → one output row per input row
    col = {c: i for i, c in enumerate(CSV_OUT_COLUMNS)}
    assert [int(r[col["line"]]) for r in body] == list(range(2, len(rows) + 2))  # line 1 is the header
    dets = solver.determine_many([case_from_data(_case_data_from_row(r), kb) for r in rows])
    for row, out_row, det in zip(rows, body, dets):
        assert out_row[col["case"]] == row["case"]
        det = det.to_json()
        item = det["items"][out_row[col["item"]]]
        held = item["license_required"] is None  # a held determination is written "unknown"
        assert out_row[col["license_required"]] == ("unknown" if held else str(item["license_required"]))
        assert out_row[col["exceptions_available"]] == ";".join(item["exceptions_available"])
        assert out_row[col["requirements"]] == ";".join(r["id"] for r in item["requirements"])


def test_unknown_csv_column_exits_2_naming_it(tmp_path):
    path = tmp_path / "erp.csv"
    path.write_text("case,date,to,destination_country\nx,2025-06-01,DE,DE\n", encoding="utf-8")
    code, stdout, stderr = _invoke(["batch", str(path)])
    assert code == 2
    assert "destination_country" in stderr and "Traceback" not in stderr
    assert "consignee_country" in stderr and "accepted" in stderr  # the accepted columns are listed
    assert stdout == ""


# --------------------------------------------------------------------------- folder
def test_folder_of_case_files(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    picked = GOOD_FILES[:: max(1, len(GOOD_FILES) // 12)][:12]
    for i, src in enumerate(picked):
        (folder / f"{i:02d}-{src.name}").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "99-bad.yaml").write_text("case: bad\ndate: '2025-13-45'\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    errors = tmp_path / "errors.jsonl"
    code, _, stderr = _invoke(["batch", str(folder), "--out", str(out), "--errors", str(errors), "--quiet"])
    assert code in (0, 1), stderr  # 1 only if a regression case's own expect: fails (reported elsewhere)
    results = _read_jsonl(out)
    assert [r["line"] for r in results] == list(range(1, len(picked) + 1))
    assert [r["case"] for r in results] == [read_document(p)[0]["case"] for p in picked]
    errs = _read_jsonl(errors)
    assert [e["line"] for e in errs] == [len(picked) + 1] and "99-bad.yaml" in errs[0]["error"]


def test_docs_list_exactly_the_csv_columns():
    """docs/batch.md's CSV table is the user's contract: it must match CSV_COLUMNS."""
    import re
    doc = (CASES.parents[1] / "docs" / "batch.md").read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| `([a-z_]+)` \| `([a-z_\[\]0-9.]+)` \|$", doc, flags=re.M))
    assert table == CSV_COLUMNS
