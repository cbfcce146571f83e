"""Counterfactual search: minimal change sets found by clingo, checked against the ordinary solver."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from exportkb.cli import main
from exportkb.analysis.counterfactual import (ChangeSpace, CounterfactualError, CounterfactualOptions, Counterfactuals,
                                              parse_goal, set_path)
from exportkb.case.facts import date_int
from exportkb.case.loader import load_case

from .conftest import CASES

WE02 = CASES / "aia" / "aia-we02-parent-outside.yaml"
WE03 = CASES / "aia" / "aia-we03-253m.yaml"


@pytest.fixture(scope="module")
def cf(kb, solver) -> Counterfactuals:
    return Counterfactuals(kb, solver)


def test_we02_one_change_parent_hq_into_supp5a(kb, solver, cf):
    """740.27(a): AIA fails only because the ultimate parent is headquartered in India (WE-02)."""
    case = load_case(WE02, kb)
    assert "AIA" not in solver.determine(case).items["gpus"].exceptions_available
    goal = parse_goal("exception_available(aia)", kb, case, item="gpus")
    result = cf.search(case, goal)
    assert result.change_sets, result.message
    day = date_int(case.date)
    for cs in result.change_sets:
        assert cs.cost == 1 and len(cs.changes) == 1
        (change,) = cs.changes
        assert change.path == "parties[0].ultimate_parent_headquarters"
        assert change.before == "IN"
        assert "supp5a" in cf.space.kbf.groups_of(change.after, day)
        assert change.line == case.line_of("parties[0].ultimate_parent_headquarters")
        # apply the change ourselves and re-solve with the ordinary solver
        changed = set_path(case, change.path, change.after)
        assert "AIA" in solver.determine(changed).items["gpus"].exceptions_available
        assert cs.verified and "AIA" in cs.determination.items["gpus"].exceptions_available


def test_no_change_in_space_flips_goal(kb, cf):
    """740.27(a)(1): AIA covers .a-level items; a declared 3A090.b item never qualifies, whatever else changes."""
    case = load_case(CASES / "aia" / "aia-b-item-not-eligible.yaml", kb)
    result = cf.search(case, parse_goal("exception_available(chips, aia)", kb, case))
    assert result.change_sets == []
    assert not result.goal_holds_already
    assert "no change within the declared space" in result.message and "at most 3 change(s)" in result.message


def test_goal_already_holds(kb, cf):
    case = load_case(CASES / "aia" / "aia-we01-germany.yaml", kb)
    item = case.items[0].id
    result = cf.search(case, parse_goal("exception_available(aia)", kb, case, item=item))
    assert result.goal_holds_already and result.change_sets == []
    assert "already holds" in result.message


def test_deterministic(kb, cf):
    case = load_case(WE02, kb)
    goal = parse_goal("exception_available(aia)", kb, case, item="gpus")
    runs = [json.dumps(cf.search(case, goal, CounterfactualOptions(levels=2)).to_json(), sort_keys=True)
            for _ in range(2)]
    assert runs[0] == runs[1]


def test_quantity_boundary_from_kb_parameter(kb, solver, cf):
    """740.27(c): below 253,000,000 cumulative TPP no certification goes to BIS (WE-03 ships 316.6M)."""
    case = load_case(WE03, kb)
    goal = parse_goal("not obligation(gpus, aia_submit_certification_to_bis)", kb, case)
    result = cf.search(case, goal, CounterfactualOptions(fields=["items[*].quantity"]))
    quantities = {cs.changes[0].after for cs in result.change_sets}
    assert all(cs.changes[0].path == "items[0].quantity" for cs in result.change_sets)
    # the largest quantity that stays under the KB's parameter is among the answers, and it is under it
    cap = cf.space.kbf.param_values("aia_bis_certification_tpp", date_int(case.date))[0]
    top = max(quantities)
    assert top * 15832 < cap <= (top + 1) * 15832
    assert all(cs.verified for cs in result.change_sets)
    over = set_path(case, "items[0].quantity", top + 1)
    assert "aia_submit_certification_to_bis" in solver.determine(over).items["gpus"].obligations


def test_next_level_excludes_supersets(kb, cf):
    case = load_case(CASES / "requirements" / "b-saudi-d4.yaml", kb)
    goal = parse_goal("not license_required(chips)", kb, case)
    result = cf.search(case, goal, CounterfactualOptions(levels=2, keep=["date"]))
    first = [frozenset((c.path, str(c.after)) for c in cs.changes) for cs in result.change_sets if cs.level == 1]
    later = [frozenset((c.path, str(c.after)) for c in cs.changes) for cs in result.change_sets if cs.level == 2]
    assert first
    assert all(not f <= s for f in first for s in later)
    assert all(cs.verified for cs in result.change_sets)
    assert all(c.path != "date" for cs in result.change_sets for c in cs.changes)


def test_country_space_is_one_representative_per_class(kb):
    space = ChangeSpace(kb)
    reps = space.country_representatives(20250601)
    classes = [space.country_class(code, 20250601)[0] for code, _ in reps]
    assert len(classes) == len(set(classes))
    assert "supp5a" in classes and "d5" in classes and "macau" in classes


@pytest.mark.parametrize("goal, item, needle", [
    ("exception_available(aia)", "nope", "no such item"),
    ("no_such_predicate(gpus)", None, "not an output"),
    ("license_required(gpus, aia)", None, "takes 1 argument"),
    ("license_required(gpus", None, "not of the form"),
])
def test_bad_goals(kb, goal, item, needle):
    case = load_case(WE02, kb)
    with pytest.raises(CounterfactualError, match=needle):
        parse_goal(goal, kb, case, item=item)


def test_cli_text_and_json():
    runner = CliRunner()
    res = runner.invoke(main, ["counterfactual", str(WE02), "--item", "gpus", "--goal", "exception_available(aia)"])
    assert res.exit_code == 0, res.output
    assert "parties[0].ultimate_parent_headquarters: IN -> " in res.output
    assert "aia-we02-parent-outside.yaml:" in res.output
    res = runner.invoke(main, ["counterfactual", str(WE02), "--item", "gpus", "--goal", "exception_available(aia)",
                               "--format", "json"])
    data = json.loads(res.output)
    assert data["change_sets"] and data["change_sets"][0]["changes"][0]["from"] == "IN"


def test_cli_bad_goal_exit_2():
    res = CliRunner().invoke(main, ["counterfactual", str(WE02), "--goal", "frobnicate(x)"])
    assert res.exit_code == 2
    assert "--goal 'frobnicate(x)'" in res.output and "Traceback" not in res.output


def test_cli_nothing_found_exit_1():
    case = CASES / "aia" / "aia-b-item-not-eligible.yaml"
    res = CliRunner().invoke(main, ["counterfactual", str(case), "--goal", "exception_available(chips, aia)",
                                    "--max-changes", "1"])
    assert res.exit_code == 1 and "no change within the declared space" in res.output


# --------------------------------------------------------------------------- issue 12 item 17
EXAMPLES = CASES.parent.parent / "examples"


def test_uae_lpp_goal_answers_ship_at_most_1699(kb, solver):
    """740.29(a): 26,900,000 / 15,832 = 1,699.09, so 1,699 H100s fit under the LPP cap.

    Before the exact arithmetic this search died with clingo's "Integer overflow!" after 15 s;
    the nearer of two equally cheap quantities (1 and 1,699) is the one reported.
    740.2(a)(9)(ii) as written does not list LPP for the UAE (D:4, not A:5/A:6), so the cap
    arithmetic is searched under the drafting-gap reading (reform lpp-740-2-gap-closed).
    """
    import time
    from exportkb.kb.reforms import apply_reforms
    from exportkb.solve.solver import Solver
    gap_kb = apply_reforms(kb, ["lpp-740-2-gap-closed"])
    cf = Counterfactuals(gap_kb, Solver(gap_kb))
    case = load_case(EXAMPLES / "uae-datacenter.yaml", gap_kb)
    goal = parse_goal("exception_available(gpus, lpp)", gap_kb, case)
    start = time.monotonic()
    result = cf.search(case, goal, CounterfactualOptions(time_limit=30))
    assert time.monotonic() - start < 30
    assert [[(c.path, c.after) for c in cs.changes] for cs in result.change_sets] == [[("items[0].quantity", 1699)]]
    assert result.change_sets[0].verified


def test_uae_not_license_required_answers_within_time_limit(kb, cf):
    """The search over the whole space (dates, countries, ...) used to run past 120 s: the nested
    #sum over route figures made grounding explode. It must now finish well within its limit."""
    import time
    case = load_case(EXAMPLES / "uae-datacenter.yaml", kb)
    goal = parse_goal("not license_required(gpus)", kb, case)
    start = time.monotonic()
    result = cf.search(case, goal, CounterfactualOptions(time_limit=60))
    assert time.monotonic() - start < 60
    assert result.change_sets and all(cs.verified for cs in result.change_sets)


def test_no_single_quantity_change_flips_lpp_beyond_2pow31(kb, cf):
    """Two lines of 100,000 H100s (3,166,400,000 TPP): one line alone already exceeds the LPP cap, so
    no single change of the space flips LPP — said clearly, not an overflow or a wrong answer."""
    case = load_case(CASES / "allocations" / "alloc-two-lines-100000-h100-ae.yaml", kb)
    result = cf.search(case, parse_goal("exception_available(a, lpp)", kb, case), CounterfactualOptions(time_limit=30))
    assert result.change_sets == [] and "no change within the declared space" in result.message

