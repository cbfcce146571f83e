"""`exportkb batch --list FILE` (issue 15 item 4): every row's parties screened as `check --list` screens them.

What the regulation gives (as in tests/test_screening_determinations.py): a party on the Entity List
makes every item subject to the EAR need a licence (15 CFR 744.11(a), "to the extent specified on the
Entity List"), with no License Exception (744.16(b)); a possible match short of a confirmed one is not
a pass, so the row is held: ``license_required`` null and the obligation to resolve the match before
export. The batch must give each row exactly the determination `check --list` gives its case, the
local and the Dask backends the same bytes, and the summary the list's SHA-256.
"""
from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from exportkb import cli
from exportkb.batch import read_rows, run_batch

pytest.importorskip("rapidfuzz")

HERE = Path(__file__).parent / "screening"
CSL = HERE / "csl-sample.csv"
CASES = Path(__file__).parent / "cases"
#: cases whose parties have names or addresses (what a list can match), plus the two screening cases
SCREENED = sorted([*(CASES / "entity_list").glob("*.yaml"), *(CASES / "enforcement").glob("*.yaml"),
                   HERE / "case-sjs-variant.yaml", HERE / "case-sjs-potential.yaml"])


def _invoke(args: list[str], env: dict[str, str] | None = None):
    res = CliRunner().invoke(cli.main, args, env=env)
    return res.exit_code, res.stdout, res.stderr


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> Path:
    """The screened cases as one JSONL log (one case object per line), in a fixed order."""
    path = tmp_path_factory.mktemp("log") / "log.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for f in SCREENED:
            fh.write(json.dumps(yaml.safe_load(f.read_text(encoding="utf-8")), default=str) + "\n")
    return path


def _batch(log: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> list[dict]:
    code, _, err = _invoke(["batch", str(log), "--out", str(out), "--quiet", *extra], env=env)
    assert code in (0, 1), err
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_every_row_gets_the_determination_check_gives_its_case(log, tmp_path):
    rows = _batch(log, tmp_path / "out.jsonl", "--list", str(CSL))
    assert len(rows) == len(SCREENED)
    for f, row in zip(SCREENED, rows):
        code, out, err = _invoke(["check", "--json", str(f), "--list", str(CSL)])
        assert code in (0, 1), err
        want = json.loads(out)
        row.pop("line")
        row.pop("expect_mismatches", None)
        want.pop("expect_mismatches", None)
        assert row["items"] == want["items"], f.name
        assert row["red_flags"] == want["red_flags"] and row.get("notes") == want.get("notes"), f.name


def test_a_listed_party_found_by_screening_needs_a_licence_and_a_potential_one_holds_the_row(log, tmp_path):
    rows = {r["case"]: r for r in _batch(log, tmp_path / "out.jsonl", "--list", str(CSL))}
    wafers = rows["sjs-screened"]["items"]["wafers"]
    assert wafers["license_required"] is True  # EAR99 wafers: 744.11(a) reaches every item subject to the EAR
    assert [r["id"] for r in wafers["requirements"]] == ["el_744_11"]
    assert wafers["exceptions_available"] == []  # 744.16(b)
    held = rows["sjs-potential"]["items"]["wafers"]
    assert held["license_required"] is None  # unknown, never "no licence"
    assert "resolve_potential_entity_list_match_before_export" in held["obligations"]


def test_without_the_list_the_variant_spelling_is_not_found(log, tmp_path):
    rows = {r["case"]: r for r in _batch(log, tmp_path / "out.jsonl")}
    assert rows["sjs-screened"]["items"]["wafers"]["requirements"] == []


def test_the_list_can_come_from_the_environment(log, tmp_path):
    by_option = (tmp_path / "a.jsonl")
    by_env = (tmp_path / "b.jsonl")
    _batch(log, by_option, "--list", str(CSL))
    _batch(log, by_env, env={"EXPORTKB_LIST": str(CSL)})
    assert by_option.read_bytes() == by_env.read_bytes()


def test_one_and_two_processes_give_the_same_bytes(log, tmp_path):
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    _batch(log, one, "--list", str(CSL), "--jobs", "1", "--chunk", "3")
    _batch(log, two, "--list", str(CSL), "--jobs", "2", "--chunk", "2")
    assert one.read_bytes() == two.read_bytes()


def test_the_summary_names_the_list_and_its_sha256(log):
    from exportkb.screening.cases import screener_for

    got: list = []
    summary = run_batch(read_rows(log), screener=screener_for(CSL), on_result=got.append).to_json()
    assert summary["list_version"] == hashlib.sha256(CSL.read_bytes()).hexdigest()
    assert summary["list_file"] == str(CSL)
    assert summary["cases"] == len(SCREENED)
    unscreened = run_batch(read_rows(log), on_result=got.append).to_json()
    assert unscreened["list_version"] is None and unscreened["list_file"] is None


def test_the_printed_summary_names_the_list(log, tmp_path):
    code, _, err = _invoke(["batch", str(log), "--out", str(tmp_path / "o.jsonl"), "--list", str(CSL)])
    assert code in (0, 1)
    flat = " ".join(err.split())
    assert f"screened against {CSL}" in flat and hashlib.sha256(CSL.read_bytes()).hexdigest() in flat


def test_csv_rows_are_screened_by_the_consignee_name_and_address(tmp_path):
    path = tmp_path / "erp.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case", "date", "transaction", "from", "to", "item_id", "eccn", "kind", "quantity",
                    "consignee", "consignee_country", "consignee_name", "consignee_street", "consignee_city"])
        w.writerow(["listed", "2025-06-01", "export", "US", "CN", "wafers", "EAR99", "other", "100", "buyer", "CN",
                    "SJ Semiconductor Company", "No. 500 Changjiang Road", "Jiangyin"])
        w.writerow(["clean", "2025-06-01", "export", "US", "DE", "wafers", "EAR99", "other", "100", "buyer", "DE",
                    "Acme Widgets GmbH", "1 Main Street", "Berlin"])
    rows = {r["case"]: r for r in _batch(path, tmp_path / "out.jsonl", "--list", str(CSL))}
    assert [r["id"] for r in rows["listed"]["items"]["wafers"]["requirements"]] == ["el_744_11"]
    assert rows["clean"]["items"]["wafers"]["license_required"] is False


def test_a_bad_list_file_stops_the_run_before_any_output(log, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("kept\n", encoding="utf-8")
    code, _, err = _invoke(["batch", str(log), "--out", str(out), "--list", str(HERE / "no-such-list.csv")])
    assert code == 2
    assert "no-such-list.csv" in err and "Traceback" not in err
    assert out.read_text(encoding="utf-8") == "kept\n"


def test_a_worker_with_another_list_file_is_refused(tmp_path):
    from exportkb.batch.cluster import ListVersionMismatch, Settings, worker_list_version
    from exportkb.batch.cluster import solve_partition, row_partitions

    ok, sha = worker_list_version(str(CSL))
    assert ok and sha == hashlib.sha256(CSL.read_bytes()).hexdigest()
    part = next(row_partitions(iter(read_rows(HERE.parent / "cases" / "entity_list"))))
    settings = Settings(None, 60.0, "none", 10, _kb_version(), str(CSL), "0" * 64)
    with pytest.raises(ListVersionMismatch, match="SHA-256"):
        solve_partition(part, settings)


def _kb_version() -> str:
    from exportkb.kb import KnowledgeBase

    return KnowledgeBase.load(None).version


def test_the_dask_backend_gives_the_local_bytes(log, tmp_path):
    pytest.importorskip("distributed", reason="Dask not installed (pip install 'exportkb[test]')")
    local, dask = tmp_path / "local.jsonl", tmp_path / "dask.jsonl"
    _batch(log, local, "--list", str(CSL), "--jobs", "2")
    _batch(log, dask, "--list", str(CSL), "--backend", "dask", "--local-workers", "1", "--partition-bytes", "4000")
    assert local.read_bytes() == dask.read_bytes()
    rows = [json.loads(x) for x in dask.read_text(encoding="utf-8").splitlines()]
    assert any(r["items"].get("wafers", {}).get("license_required") is None for r in rows)  # the potential row held
