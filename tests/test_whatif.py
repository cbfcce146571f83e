"""What-if analysis: sweeps, reforms, comparisons across reforms and dates.

Expected values are what the regulation gives (cited per test), for scenarios
built from the WE-01 case (500 H100-class 3A090.a ICs, TPP 15,832, to a German
data-center company, 2025-06-01).
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

pd = pytest.importorskip("pandas")

from exportkb.analysis import whatif  # noqa: E402
from exportkb.cli import main  # noqa: E402
from exportkb.errors import CaseError, ExportKBError  # noqa: E402
from exportkb.case.loader import case_from_data, load_case  # noqa: E402
from exportkb.kb.reforms import ReformError, apply_reforms, list_reforms, load_reform  # noqa: E402
from exportkb.solve.solver import Solver  # noqa: E402

from .conftest import CASES  # noqa: E402

WE01 = CASES / "aia" / "aia-we01-germany.yaml"


@pytest.fixture(scope="module")
def we01(kb):
    return load_case(WE01, kb)


def _chip_case(kb, tpp: int, date: str = "2025-06-01", **extra):
    data = {"case": f"chip-{tpp}", "date": date, "to": "DE", "end_use": "development",
            "items": [{"id": "chip", "kind": "ic", "quantity": 1, "tpp": tpp, "designed_for_datacenter": True}],
            "parties": [{"id": "uc", "role": "ultimate_consignee", "country": "DE"}]}
    data.update(extra)
    return case_from_data(data, kb)


# ------------------------------------------------------------------ sweeps
def test_sweep_rows_follow_the_regulation_per_destination(kb, we01):
    # 740.27(a): AIA only to/within Supp. 5(a) destinations (DE yes, IN no); CN is D:5 (742.6(a)(6)(iii)(A)).
    df = whatif.sweep(we01, kb, to=["DE", "IN", "CN"])
    assert list(df["to"]) == ["DE", "IN", "CN"]
    assert df["license_required"].all()  # 742.6(a)(6)(iii): worldwide license requirement for 3A090.a
    by = df.set_index("to")
    assert "AIA" in by.loc["DE", "exceptions_available"]
    assert "AIA" not in by.loc["IN", "exceptions_available"]
    assert by.loc["CN", "exceptions_available"] == ""


def test_sweep_all_destinations_is_every_kb_country_in_one_grounding(kb, we01, monkeypatch):
    calls = []
    real = Solver._solve_chunk
    monkeypatch.setattr(Solver, "_solve_chunk", lambda self, chunk: calls.append(len(chunk)) or real(self, chunk))
    df = whatif.sweep(we01, kb, to="ALL", end_use=["development", "ai_model_training"])
    n = len(kb.countries) - 1  # every destination but the country of export (US)
    assert len(df) == 2 * n and "US" not in set(df["to"])
    assert calls == [2 * n]  # batched: one grounding, not a solve per scenario
    assert set(df["end_use"]) == {"development", "ai_model_training"}


def test_sweep_grid_over_item_tpp_classifies_at_the_3a090a_threshold(kb):
    # Supp. 1 to part 774, 3A090.a: TPP of 4800 or more (performance density unknown here).
    base = _chip_case(kb, 100)
    df = whatif.sweep(base, kb, tpp=[4799, 4800], quantity=[1, 10])
    assert len(df) == 4
    assert set(df[df["tpp"] == 4800]["eccn"]) == {"3A090.a"}
    assert "3A090.a" not in set(df[df["tpp"] == 4799]["eccn"])


def test_sweep_dotted_axis_and_usage(kb, we01):
    df = whatif.sweep(we01, kb, axes={"usage_this_year.lpp_tpp": [0, 26_900_000]})
    assert list(df["usage_this_year.lpp_tpp"]) == [0, 26_900_000]
    # 740.29(a): LPP caps a consignee's year at 26,900,000 TPP; at the cap nothing more goes under LPP.
    assert "LPP" not in df.iloc[1]["exceptions_available"]


def test_sweep_moves_parties_with_the_destination_unless_told_not_to(kb, we01):
    moved = [c for _, c in whatif.scenarios(we01, kb, {"to": ["JP"]})]
    fixed = [c for _, c in whatif.scenarios(we01, kb, {"to": ["JP"]}, move_parties=False)]
    assert moved[0].parties[0].country == "JP" and moved[0].parties[0].headquarters == "JP"
    assert fixed[0].parties[0].country == "DE" and fixed[0].to == "JP"


def test_sweep_bad_axis_value_gets_the_loaders_error(kb, we01):
    with pytest.raises(CaseError) as exc:
        whatif.sweep(we01, kb, end_use=["model_trianing"])
    msg = str(exc.value)
    assert "end_use" in msg and "model_trianing" in msg and "did you mean" in msg


def test_sweep_unknown_axis_and_bad_all(kb, we01):
    with pytest.raises(ExportKBError, match="not a case field"):
        whatif.sweep(we01, kb, colour=["red"])
    with pytest.raises(ExportKBError, match="ALL is only defined"):
        whatif.sweep(we01, kb, quantity="ALL")


def test_as_of_is_the_case_redated(kb, we01):
    early = whatif.as_of(we01, "2025-03-01", kb)
    assert early.date == dt.date(2025, 3, 1)
    assert early.model_dump(exclude={"date", "expect"}) == we01.model_dump(exclude={"date", "expect"})
    assert early.expect is None  # the expectations were about the original date


# ------------------------------------------------------------------ reforms
def test_shipped_reforms_all_load_and_apply(kb):
    reforms = list_reforms()
    assert {"no-aia", "add-india-to-supp5a", "lpp-cap-doubled"} <= {r.name for r in reforms}
    for r in reforms:
        assert r.title
        new = apply_reforms(kb, [r.name])
        assert new.version != kb.version


def test_parameter_override_replaces_not_adds(kb, solver):
    # Hypothetical 3A090.a threshold of 6000: a 4800-TPP chip is no longer 3A090.a on TPP alone.
    # Were the override a second param row, 4800 >= 4800 would still hold and keep 3A090.a.
    case = _chip_case(kb, 4800)
    assert solver.determine(case).items["chip"].eccn == "3A090.a"
    reformed = Solver(apply_reforms(kb, ["3a090a-threshold-raised"])).determine(case)
    assert reformed.items["chip"].eccn != "3A090.a"
    six = Solver(apply_reforms(kb, ["3a090a-threshold-raised"])).determine(_chip_case(kb, 6000))
    assert six.items["chip"].eccn == "3A090.a"


def test_parameter_override_only_inside_its_dates(kb):
    # The override starts 2025-01-13; in 2024 the 2023 rule's 4800 threshold applies (88 FR 73458).
    case = _chip_case(kb, 4800, date="2024-06-01")
    det = Solver(apply_reforms(kb, ["3a090a-threshold-raised"])).determine(case)
    assert det.items["chip"].eccn == "3A090.a"


def test_overlay_adds_india_to_supp5a(kb, we01, solver):
    india = whatif.scenarios(we01, kb, {"to": ["IN"]})
    case = next(india)[1]
    assert "AIA" not in solver.determine(case).items["gpus"].exceptions_available
    det = Solver(apply_reforms(kb, ["add-india-to-supp5a"])).determine(case)
    assert "AIA" in det.items["gpus"].exceptions_available


def test_neutralize_switches_aia_off_and_reforms_compose(kb, we01):
    det = Solver(apply_reforms(kb, ["no-aia"])).determine(we01)
    assert "AIA" not in det.items["gpus"].exceptions_available
    both = Solver(apply_reforms(kb, ["no-aia", "add-india-to-supp5a"])).determine(we01)
    assert "AIA" not in both.items["gpus"].exceptions_available


def test_case_level_reform_field(kb, we01):
    data = whatif.case_data(we01)
    data["reform"] = ["no-aia"]
    case = case_from_data(data, kb)
    plain, reformed = whatif.determine([we01, case], kb)
    assert "AIA" in plain.items["gpus"].exceptions_available
    assert "AIA" not in reformed.items["gpus"].exceptions_available


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


ANNOT = "%! id: x.y\n%! cite: 15 CFR 740 (test)\n%! source: ../shared/reference/country-groups.md\n%! reads: test.\n"


@pytest.mark.parametrize("files, reforms, message", [
    ({"a.yaml": "title: t\nparams:\n  - {name: no_such_param, value: 1, from: 2025-01-13}\n"}, ["a"],
     "not a parameter of the knowledge base"),
    ({"a.yaml": "title: t\nparams:\n  - {name: lpp_annual_cap_tpp, value: 1, from: 2025-01-13}\n",
      "b.yaml": "title: t\nparams:\n  - {name: lpp_annual_cap_tpp, value: 2, from: 2025-06-01}\n"}, ["a", "b"],
     "both override lpp_annual_cap_tpp"),
    ({"a.lp": ANNOT + "made_up_predicate(1).\n"}, ["a"], "not a predicate of the knowledge base"),
    ({"a.lp": ANNOT + 'destination(x, "DE").\n'}, ["a"], "is a case input"),
    ({"a.lp": 'group_member(supp5a, "IN", 20250113, 99991231).\n'}, ["a"], "not annotated"),
    ({"a.yaml": "title: t\nneutralize: [no.such.rule]\n"}, ["a"], "unknown rule id"),
    ({"a.yaml": "title: t\nparams:\n  - {name: lpp_annual_cap_tpp, value: lots, from: 2025-01-13}\n"}, ["a"],
     "not a 32-bit whole number"),
    ({"a.yaml": "title: t\n"}, ["a"], "changes nothing"),
    # YAML 1.1 would read NO as false: reforms read scalars like case files do, so the value stays the text 'NO'.
    ({"a.yaml": "title: t\nparams:\n  - {name: lpp_annual_cap_tpp, value: NO, from: 2025-01-13}\n"}, ["a"],
     "'NO' is not a 32-bit whole number"),
    ({"a.yaml": "title: t\nparams: [ {name: x\n"}, ["a"], r"a\.yaml:\d+: invalid YAML"),
    ({}, ["missing"], "not found"),
])
def test_bad_reforms_are_rejected_with_a_clear_error(kb, tmp_path, files, reforms, message):
    for name, text in files.items():
        _write(tmp_path, name, text)
    with pytest.raises(ReformError, match=message):
        apply_reforms(kb, [load_reform(r, tmp_path) if (tmp_path / f"{r}.yaml").exists() or (tmp_path / f"{r}.lp").exists()
                           else r for r in reforms], tmp_path)


# ------------------------------------------------------------------ compare
def test_reform_values_with_digit_separators_and_basic_dates(kb, tmp_path):
    _write(tmp_path, "a.yaml", "title: t\nparams:\n  - {name: lpp_annual_cap_tpp, value: 26_900_000, from: 20250113}\n")
    reform = load_reform("a", tmp_path)
    assert reform.params[0].value == 26900000 and reform.params[0].start == 20250113


def test_compare_reform_lists_only_changed_cases(kb, we01):
    china = next(whatif.scenarios(we01, kb, {"to": ["CN"]}))[1]
    result = whatif.compare([we01, china], kb, reform="no-aia")
    assert [c.case for c in result] == [we01.case]
    change = {(ch.item, ch.field): ch for ch in result[0].changes}
    assert "AIA" in change[("gpus", "exceptions_available")].before
    assert "AIA" not in change[("gpus", "exceptions_available")].after
    assert any("aia" in a for a in result[0].atoms_removed)


def test_compare_as_of_dates_before_and_after_compliance(kb, we01):
    # 90 FR 4544 DATES: compliance with the IFR (and so AIA) from 2025-05-15; before it, legacy rules only.
    result = whatif.compare([we01], kb, as_of_dates=["2025-03-01", "2025-06-01"])
    assert len(result) == 1
    fields = {(ch.item, ch.field) for ch in result[0].changes}
    assert ("gpus", "exceptions_available") in fields
    same = whatif.compare([we01], kb, as_of_dates=["2025-06-01", "2025-06-01"])
    assert same == []


def test_compare_needs_a_reform_or_two_dates(kb, we01):
    with pytest.raises(ExportKBError, match="needs a reform"):
        whatif.compare([we01], kb)


# ------------------------------------------------------------------ CLI
def test_cli_whatif_csv_and_json(tmp_path):
    out = tmp_path / "grid.csv"
    r = CliRunner().invoke(main, ["whatif", str(WE01), "--vary", "to=DE,CN", "--vary", "quantity=1,1000",
                                  "--csv", str(out)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out)
    assert len(df) == 4 and {"to", "quantity", "outcome"} <= set(df.columns)
    r = CliRunner().invoke(main, ["whatif", str(WE01), "--vary", "to=DE", "--json"])
    assert r.exit_code == 0
    assert json.loads(r.output)[0]["to"] == "DE"


def test_cli_whatif_bad_input_exits_2_without_traceback():
    r = CliRunner().invoke(main, ["whatif", str(WE01), "--vary", "to=XX"])
    assert r.exit_code == 2 and "unknown country" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["whatif", str(WE01), "--vary", "to"])
    assert r.exit_code == 2 and "AXIS=VALUES" in r.output


def test_cli_compare(tmp_path):
    r = CliRunner().invoke(main, ["compare", str(WE01), str(CASES / "requirements"), "--reform", "no-aia", "--no-rules"])
    assert r.exit_code == 0, r.output
    assert "aia-we01-germany" in r.output and "1 of" in r.output
    r = CliRunner().invoke(main, ["compare", str(WE01), "--as-of", "2025-03-01", "--as-of", "2025-06-01", "--json"])
    assert r.exit_code == 0
    assert json.loads(r.output)[0]["case"] == "aia-we01-germany"
    r = CliRunner().invoke(main, ["compare", str(WE01), "--as-of", "2025-13-01", "--as-of", "2025-06-01"])
    assert r.exit_code == 2 and "not a date" in r.output


def test_change_proofs_explain_both_sides(kb, we01):
    # Withdrawing AIA: before, a why-proof through aia.available (740.27(a)); after, a why-not proof.
    cmp = whatif.compare([we01], kb, reform="no-aia", explain=False)[0]
    proofs = whatif.change_proofs(cmp, kb, atoms=[a for a in cmp.atoms_removed if a.startswith("exception_available")])
    assert len(proofs) == 1
    assert proofs[0].before.holds and proofs[0].before.kind == "why"
    assert "aia.available" in proofs[0].before.rules_used()
    assert not proofs[0].after.holds and proofs[0].after.kind == "why_not"
    assert "aia.available" not in proofs[0].after.rules_used()
    assert "sides" not in cmp.to_json()


def test_cli_compare_prints_proofs_before_and_after():
    """`exportkb compare --proofs 1`: the changed determination's why-not before and why after."""
    from click.testing import CliRunner

    from exportkb.cli import main

    from pathlib import Path
    case = str(Path(__file__).parent / "cases" / "lpp" / "lpp-cap-one-over.yaml")
    res = CliRunner().invoke(main, ["compare", case, "--reform", "lpp-cap-doubled", "--proofs", "1"])
    assert res.exit_code == 0, res.output
    assert "1 of 1 case(s) change" in res.output
    assert "WHY NOT exception_available(" in res.output      # as enacted: one TPP over the cap
    assert "WHY exception_available(" in res.output          # with the doubled cap: LPP available
    assert "lpp.within_cap" in res.output
