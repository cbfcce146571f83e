"""`exportkb test`: summary table, JUnit XML, exit codes, -k, as_of, reform, --engine both.

Expectations state what the regulation gives: 3A090.a items need a license to every
destination once the IFR binds (15 CFR 742.6(a)(6)(iii), compliance from 2025-05-15), AIA
(740.27) is available to an ultimate consignee located and headquartered in Germany, a
Supp. No. 5 paragraph (a) destination, and the rule is not in effect before 2025-01-13.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from exportkb.cli import main
from exportkb.errors import ExportKBError
from exportkb.suites.runner import KeywordExpression

GERMAN = {
    "date": "2025-06-01", "to": "DE",
    "items": [{"id": "gpus", "eccn": "3A090.a", "quantity": 500, "tpp": 15832, "designer_approved": True}],  # 740.27(a)(1)
    "parties": [{"id": "consignee", "role": "ultimate_consignee", "country": "DE"}],
}


def write_case(folder: Path, name: str, case_id: str, expect: dict, **extra) -> Path:
    data = {"case": case_id, "title": "see module docstring", **GERMAN, **extra, "expect": expect}
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def suite_dir(tmp_path):
    write_case(tmp_path, "de.json", "de-aia", {"gpus": {"license_required": True, "exceptions_include": ["AIA"]}})
    write_case(tmp_path, "early.json", "de-before-rule", {"as_of": "2024-12-01", "in_scope": False})
    write_case(tmp_path, "wrong.json", "de-wrong", {"gpus": {"license_required": False}})
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(main, ["test", *args], catch_exceptions=False)


def test_failing_case_exits_1_with_expected_and_actual(suite_dir):
    result = run(str(suite_dir))
    assert result.exit_code == 1, result.output
    assert "2 passed, 1 failed" in result.output
    assert "expect.gpus.license_required" in result.output
    assert "expected: False" in result.output and "actual:   True" in result.output
    assert "Traceback" not in result.output


def test_all_passing_exits_0_and_k_selects(suite_dir):
    result = run(str(suite_dir), "-k", "not wrong")
    assert result.exit_code == 0, result.output
    assert "2 passed, 0 failed" in result.output
    only = run(str(suite_dir), "-k", "before-rule", "-q")
    assert only.exit_code == 0 and "1 passed" in only.output


def test_junit_xml_is_valid(suite_dir, tmp_path):
    report = tmp_path / "out" / "junit.xml"
    report.parent.mkdir()
    result = run(str(suite_dir), "--junitxml", str(report), "-q")
    assert result.exit_code == 1
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["de-aia", "de-before-rule", "de-wrong"]
    assert suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("errors") == "0"
    for c in cases:
        assert c.get("classname") and float(c.get("time")) >= 0
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["de-wrong"]
    assert "license_required" in failed[0].find("failure").get("message")


def test_bad_case_file_exits_2_with_loader_message(suite_dir, tmp_path):
    (suite_dir / "bad.json").write_text(json.dumps({"case": "x", "date": "2025-06-01", "to": "DE",
                                                    "items": [{"id": "a", "eccn": "3A090.a", "quantity": "many"}]}))
    report = tmp_path / "j.xml"
    result = run(str(suite_dir), "--junitxml", str(report), "-q")
    assert result.exit_code == 2
    assert "bad.json" in result.output and "items[0].quantity" in result.output and "fix:" in result.output
    assert "Traceback" not in result.output
    errors = [c for c in ET.parse(report).getroot().iter("testcase") if c.find("error") is not None]
    assert [c.get("name") for c in errors] == ["bad.json"]


def test_bad_as_of_is_a_field_error(tmp_path):
    write_case(tmp_path, "c.json", "c", {"as_of": "June 2025", "in_scope": True})
    result = run(str(tmp_path))
    assert result.exit_code == 2
    assert "expect.as_of" in result.output and "YYYY-MM-DD" in result.output


def test_as_of_redates_the_case(tmp_path):
    # the same shipment on 2025-03-01: the IFR's worldwide requirement does not bind yet, and
    # Germany is not in D:1/D:4/D:5, so no license is required under the pre-existing rules
    write_case(tmp_path, "c.json", "c", {"as_of": "2025-03-01", "gpus": {"license_required": False}})
    assert run(str(tmp_path)).exit_code == 0
    write_case(tmp_path, "c.json", "c", {"gpus": {"license_required": False}})
    assert run(str(tmp_path)).exit_code == 1


def test_reform_is_applied(tmp_path):
    # reform no-aia (queries/reforms/no-aia.yaml) neutralizes 740.27: AIA is no longer available
    write_case(tmp_path, "r.json", "r", {"gpus": {"exceptions_unavailable": ["AIA"]}}, reform=["no-aia"])
    write_case(tmp_path, "s.json", "s", {"gpus": {"exceptions_include": ["AIA"]}})
    result = run(str(tmp_path))
    assert result.exit_code == 0, result.output


def test_unknown_reform_is_an_error(tmp_path):
    write_case(tmp_path, "r.json", "r", {"gpus": {"license_required": True}}, reform=["no-such-reform"])
    result = run(str(tmp_path))
    assert result.exit_code == 2
    assert "no-such-reform" in result.output
    assert "Traceback" not in result.output


def test_engine_both_agrees_on_a_small_suite(suite_dir):
    result = run(str(suite_dir), "--engine", "both", "-k", "not wrong", "-q")
    assert result.exit_code == 0, result.output
    assert "engine both" in result.output


@pytest.mark.parametrize("expr, name, hit", [
    ("aia", "tests/cases/aia/x.yaml::aia-1", True),
    ("AIA and not we01", "c/aia-we01.yaml::aia-we01", False),
    ("lpp or (aia and 253m)", "c/aia-253m.yaml::x", True),
    ("not (aia or lpp)", "c/acm.yaml::acm-1", True),
])
def test_keyword_expression(expr, name, hit):
    assert KeywordExpression(expr).matches(name) is hit


@pytest.mark.parametrize("expr", ["aia and", "(aia", "and", ") aia"])
def test_keyword_expression_errors(expr):
    with pytest.raises(ExportKBError):
        KeywordExpression(expr)


# ------------------------------------------------------------------ input-error cases (NAME.expected.txt)
def test_whole_corpus_runs_without_ignore_bad_files_are_confirmed_refusals():
    """tests/cases/bad/ files carry sidecars, so `exportkb test tests/cases` needs no --ignore."""
    result = CliRunner().invoke(main, ["test", str(Path(__file__).parent / "cases"), "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    bad = [p for p in (Path(__file__).parent / "cases" / "bad").iterdir() if not p.name.endswith(".expected.txt")]
    assert f"{len(bad)} input-error case(s) refused as expected" in result.output


def test_refusal_with_the_wrong_message_is_an_error(tmp_path):
    write_case(tmp_path, "ok.json", "ok", {"gpus": {"license_required": True}})
    (tmp_path / "neg.yaml").write_text("case: neg\ndate: 2025-06-01\nto: DE\nitems:\n  - {id: g, eccn: 3A090.a, quantity: -1}\n",
                                       encoding="utf-8")
    (tmp_path / "neg.expected.txt").write_text("a message the loader never prints\n", encoding="utf-8")
    result = run(str(tmp_path))
    assert result.exit_code == 2
    assert "refused, but the message lacks 'a message the loader never prints'" in result.output


def test_sidecar_next_to_a_valid_case_is_an_error(tmp_path):
    write_case(tmp_path, "ok.json", "ok", {"gpus": {"license_required": True}})
    (tmp_path / "ok.expected.txt").write_text("quantity\n", encoding="utf-8")
    result = run(str(tmp_path))
    assert result.exit_code == 2
    assert "expected an input error (ok.expected.txt) but the file loads" in result.output
