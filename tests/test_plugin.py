"""The pytest plugin: case files with `expect:` run as tests under plain `pytest`.

Expectations state what the regulation gives (see tests/test_suite_cli.py): a 3A090.a
shipment to a German ultimate consignee on 2025-06-01 needs a license (15 CFR
742.6(a)(6)(iii)) and, the chips being designed by an approved IC designer (740.27(a)(1)),
AIA is available (15 CFR 740.27).
"""
from __future__ import annotations

import json
from importlib.metadata import entry_points

import pytest

from exportkb.solve.solver import Solver

pytest_plugins = ["pytester"]

CASE = """\
case: {id}
title: 3A090.a to a German ultimate consignee (742.6(a)(6)(iii); 740.27)
date: 2025-06-01
to: DE
items:
- {{id: gpus, eccn: 3A090.a, quantity: 500, tpp: 15832, designer_approved: true}}
parties:
- {{id: consignee, role: ultimate_consignee, country: DE}}
expect:
  gpus:
    license_required: {required}
    exceptions_include: [AIA]
"""


def case_text(case_id: str, required: str = "true") -> str:
    return CASE.format(id=case_id, required=required)


@pytest.fixture
def three_cases(pytester):
    pytester.makefile(".case.yaml", de_one=case_text("de-one"))
    pytester.makefile(".case.yml", de_two=case_text("de-two"))
    wrong = {"case": "de-wrong", "title": "deliberately wrong", "date": "2025-06-01", "to": "DE",
             "items": [{"id": "gpus", "eccn": "3A090.a", "quantity": 500, "tpp": 15832}],
             "parties": [{"id": "consignee", "role": "ultimate_consignee", "country": "DE"}],
             "expect": {"gpus": {"license_required": False}}}
    pytester.makefile(".case.json", de_wrong=json.dumps(wrong))
    return pytester


def test_plugin_is_registered_by_entry_point():
    assert any(ep.value == "exportkb.suites.plugin" for ep in entry_points(group="pytest11"))


def test_three_case_files_run_in_one_batch_and_the_wrong_one_fails_readably(three_cases, monkeypatch):
    calls = []
    original = Solver.determine_many

    def counting(self, cases):
        cases = list(cases)
        calls.append(len(cases))
        return original(self, cases)

    monkeypatch.setattr(Solver, "determine_many", counting)
    result = three_cases.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    assert calls == [3]  # solved together once, not a solver per case
    out = result.stdout.str()
    assert "de_wrong.case.json: case 'de-wrong'" in out
    assert "expect.gpus.license_required:" in out
    assert "expected: False" in out and "actual:   True" in out
    assert "license_required(gpus)" in out  # the proof (or the raw atoms) behind the determination
    assert "Traceback" not in out


def test_items_are_named_after_the_case_id(three_cases):
    result = three_cases.runpytest("-p", "no:cacheprovider", "-k", "de-two")
    result.assert_outcomes(passed=1, deselected=2)
    by_id = three_cases.runpytest("-p", "no:cacheprovider", "de_one.case.yaml::de-one")
    by_id.assert_outcomes(passed=1)


def test_bad_case_file_is_a_collection_error_with_the_loaders_message(pytester):
    pytester.makefile(".case.yaml", bad="case: b\ndate: 2025-06-01\nto: DE\nitems:\n- {id: a, quantity: many}\n"
                                         "expect: {in_scope: true}\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    out = result.stdout.str()
    assert "items[0].quantity" in out and "fix:" in out
    assert "Traceback" not in out


def test_configured_folders_collect_plain_yaml(pytester):
    cases = pytester.mkdir("compliance")
    (cases / "a.yaml").write_text(case_text("folder-a"), encoding="utf-8")
    (cases / "notes.yaml").write_text(case_text("no-expect").split("expect:")[0], encoding="utf-8")
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\nexportkb_cases = ["compliance"]\n')
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_option_names_a_folder(pytester):
    cases = pytester.mkdir("more")
    (cases / "b.json").write_text(json.dumps({
        "case": "folder-b", "title": "before the rule's effective date (2025-01-13): out of scope",
        "date": "2024-12-01", "to": "DE", "items": [{"id": "x", "eccn": "3A090.a"}],
        "expect": {"in_scope": False}}), encoding="utf-8")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes()  # not collected without the option
    pytester.runpytest("-p", "no:cacheprovider", "--exportkb-cases", "more").assert_outcomes(passed=1)


def test_plain_yaml_outside_configured_folders_is_not_collected(pytester):
    # as in this repository: tests/cases/**/*.yaml are run by test_regression_cases.py, not the plugin
    sub = pytester.mkdir("cases")
    (sub / "c.yaml").write_text(case_text("plain"), encoding="utf-8")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_engine_both_through_pytest(three_cases):
    result = three_cases.runpytest("-p", "no:cacheprovider", "--exportkb-engine", "both", "-k", "not wrong")
    result.assert_outcomes(passed=2, deselected=1)


def test_installed_package_runs_cases_in_a_subprocess(three_cases):
    """As a user runs it: a separate `pytest` process, the plugin found through the entry point."""
    result = three_cases.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
