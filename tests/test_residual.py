"""The residual program (exportkb.solve.residual) gives exactly the full program's answers.

`Solver.determine` solves one case with the KB's static part grounded once and
only the case-dependent rules grounded per case, with the static atoms filtered
by the case's values. These tests compare its shown atoms with the full
program's, atom for atom, on every corpus case (reforms and ``as_of`` applied as
the suite applies them) and on 2,000 generated cases, and check that anything
the split does not cover falls back to the full program with its own errors.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.generate import generate
from exportkb import KnowledgeBase, Solver
from exportkb.errors import SolveError
from exportkb.case.loader import case_from_data, load_case
from exportkb.solve.residual import residual_for, residual_program, residual_when_warm, shown_atoms
from exportkb.suites.runner import prepared

from .conftest import CASES, ROOT

ANNOTATION = "%! id: {id}\n%! cite: 15 CFR 999.1 (test fixture, not law)\n%! source: tests/test_residual.py\n%! reads: fixture.\n"


def _corpus() -> list[Path]:
    return sorted(p for p in CASES.rglob("*.yaml") if "bad" not in p.relative_to(CASES).parts)


def _assert_same(kb: KnowledgeBase, cases: list) -> None:
    """Residual shown atoms == full shown atoms, case by case.

    The full program solves the cases in one grounding (keys "#0", "#1", ...); the residual
    one case at a time with key "#0", as Solver.determine does (its rules specialised to it).
    """
    res = residual_for(kb)
    assert res is not None
    full = Solver(kb).models(cases)
    for n, (case, atoms) in enumerate(zip(cases, full)):
        got = shown_atoms(res, case)
        assert got is not None, f"{case.source or case.case}: residual solve has no unique answer set"
        want = [str(a).replace(f'"#{n}"', '"#0"', 1) for a in atoms]
        assert sorted(got) == sorted(want), f"{case.source or case.case}: residual differs from full"
        if n % 50 == 0:  # the unspecialised rules (any other key) give the same atoms too
            assert sorted(shown_atoms(res, case, key=f"#{n}")) == sorted(str(a) for a in atoms)


def test_every_corpus_case_same_atoms_as_full_program(kb):
    by_reform: dict[tuple[str, ...], list] = {}
    for path in _corpus():
        case = prepared(load_case(path, kb))  # re-dated to expect.as_of, as the suite solves it
        by_reform.setdefault(tuple(case.reform or ()), []).append(case)
    assert len(by_reform[()]) > 250
    assert any(by_reform.keys() - {()}), "the corpus has cases under reforms"
    for names, cases in by_reform.items():
        if names:
            from exportkb.kb.reforms import apply_reforms
            _assert_same(apply_reforms(kb, names), cases)
        else:
            _assert_same(kb, cases)


@pytest.mark.parametrize("countries", ["hot", "all"])
def test_generated_cases_same_atoms_as_full_program(kb, countries):
    pool = None if countries == "hot" else sorted(kb.countries)
    rows = list(generate(1000, seed=8 if countries == "hot" else 9, countries=pool))
    _assert_same(kb, [case_from_data(json.loads(json.dumps(r)), kb) for r in rows])


@pytest.mark.parametrize("reform", ["3a090a-threshold-raised", "add-india-to-supp5a", "no-aia", "lpp-cap-doubled",
                                    "aia-certification-halved", "4e091-threshold-inclusive"])
def test_reformed_kbs_same_atoms_as_full_program(kb, reform):
    from exportkb.kb.reforms import apply_reforms
    reformed = apply_reforms(kb, [reform])
    cases = [load_case(p, kb) for p in _corpus()[::6]]
    cases += [case_from_data(r, kb) for r in generate(60, seed=11)]
    _assert_same(reformed, cases)


def test_determine_equals_chunked_path(solver):
    assert residual_for(solver.kb) is not None  # built: determine takes the residual path from the first case
    for path in _corpus()[::5]:
        case = load_case(path, solver.kb)
        single = solver.determine(case)
        chunked = next(iter(solver.determine_many([case])))
        assert single.to_json() == chunked.to_json() and single.atoms == chunked.atoms, path


def _groups(cases: list, sizes=(2, 3, 5, 8, 13)) -> list[list]:
    """The cases cut into consecutive groups of the given sizes in turn (mixed destinations and shapes)."""
    out, i, n = [], 0, 0
    while i < len(cases):
        size = sizes[n % len(sizes)]
        out.append(cases[i:i + size])
        i, n = i + size, n + 1
    return out


def _assert_together_same(solver: Solver, cases: list) -> None:
    """determine_together (one residual grounding for the group) == the full program's chunk, case by case."""
    assert residual_for(solver.kb) is not None
    for group in _groups(cases):
        together = solver.determine_together(group)
        full = list(solver.determine_many(group))
        for case, t, f in zip(group, together, full):
            assert t.to_json() == f.to_json() and t.atoms == f.atoms, case.source or case.case


def test_groups_solved_together_equal_the_full_program_on_the_corpus(kb):
    """The server's coalesced requests: every corpus case, in groups of 2-13 of one law."""
    by_reform: dict[tuple[str, ...], list] = {}
    for path in _corpus():
        case = prepared(load_case(path, kb))
        by_reform.setdefault(tuple(case.reform or ()), []).append(case)
    from exportkb.kb.reforms import apply_reforms
    for names, cases in by_reform.items():
        _assert_together_same(Solver(apply_reforms(kb, names) if names else kb), cases)


def test_groups_solved_together_equal_the_full_program_on_generated_cases(kb):
    rows = generate(600, seed=12, countries=sorted(kb.countries))
    _assert_together_same(Solver(kb), [case_from_data(json.loads(json.dumps(r)), kb) for r in rows])


def test_a_group_with_a_case_without_an_answer_names_that_case(tmp_path, kb):
    """A group whose grounding has no unique answer set blames the case, as the full program's chunk does."""
    from exportkb.solve.residual import solve_rows_many  # noqa: F401 - the path under test
    bad_kb = tmp_path / "kb"
    import shutil
    shutil.copytree(kb.root, bad_kb)
    (bad_kb / "zz_fixture.lp").write_text(ANNOTATION.format(id="zz_no_answer") +
                                          ':- case(C), destination(C, "ZW").\n')
    k = KnowledgeBase.load(bad_kb)
    solver = Solver(k)
    assert residual_for(k) is not None
    ok = load_case(ROOT / "examples" / "uae-datacenter.yaml", k)  # the checkout's: an installed KB has none beside it
    bad = case_from_data({**json.loads(json.dumps(next(iter(generate(1, seed=3))))), "case": "zw-case", "to": "ZW"}, k)
    with pytest.raises(SolveError, match="zw-case"):
        solver.determine_together([ok, bad])
    assert solver.determine_together([ok, ok])[0].to_json() == solver.determine(ok).to_json()


def test_split_puts_countries_in_static_part_and_filters_groups_by_case_countries(kb):
    res = residual_for(kb)
    static_sigs = {(a.name, len(a.arguments)) for a in res.static_atoms}
    assert ("group_member_ear", 4) in static_sigs and ("param", 4) in static_sigs
    assert ("in_group", 3) in res.case_dependent and ("param_value", 3) in res.case_dependent
    assert ("group_member_ear", 4) not in res.case_dependent
    case = load_case(CASES / "aia" / "aia-we01-germany.yaml", kb)
    from exportkb.case.facts import case_facts
    facts = case_facts(case, "#0")
    chosen = res.static_atoms_for(facts)
    groups = [a for a in chosen if a.name == "group_member_ear"]
    countries = {a.arguments[1].string for a in groups}
    case_countries = {a.arguments[-1].string for a in facts
                      if a.name in ("destination", "export_from", "party_country", "party_hq", "party_parent_hq")}
    assert countries == case_countries  # every membership of the case's countries, none of the others
    all_groups = [a for a in res.static_atoms if a.name == "group_member_ear"]
    assert len(groups) == sum(1 for a in all_groups if a.arguments[1].string in case_countries) < len(all_groups)
    assert len(chosen) < len(res.static_atoms) / 4


def test_residual_rules_index_kb_rules(kb):
    res = residual_for(kb)
    assert res.rules and all(i is not None for i, _ in res.rules)
    for i, stmt in res.rules:
        assert kb.rules[i].text == str(stmt)
    assert {kb.rules[i].head for i, _ in res.rules} >= {"license_required/2", "exception_available/3"}
    assert not any(kb.rules[i].head == "group_member/4" for i, _ in res.rules)


def _kb_with(tmp_path: Path, text: str) -> KnowledgeBase:
    extra = tmp_path / "extra.lp"
    extra.write_text(text, encoding="utf-8")
    return KnowledgeBase.load(extra_files=[extra])


@pytest.mark.parametrize("rules, message", [
    ((("t.p", "t_p(C) :- case(C), not t_q(C)."), ("t.q", "t_q(C) :- case(C), t_p(C).")),
     "the knowledge base gives no answer set"),
    ((("t.a", "t_a(C) :- case(C), not t_b(C)."), ("t.b", "t_b(C) :- case(C), not t_a(C).")),
     "more than one answer set"),
], ids=["no-answer-set", "two-answer-sets"])
def test_unstratified_kb_keeps_the_solver_message(tmp_path, kb, rules, message):
    bad = _kb_with(tmp_path, "".join(ANNOTATION.format(id=rid) + text + "\n" for rid, text in rules))
    assert residual_for(bad) is not None
    case = load_case(CASES / "aia" / "aia-we01-germany.yaml", kb)
    with pytest.raises(SolveError, match=message):
        Solver(bad).determine(case)


def test_unsupported_statements_fall_back_to_full_program(tmp_path, kb):
    odd = _kb_with(tmp_path, ANNOTATION.format(id="t.ext") + "#external t_ext(1).\n")
    assert residual_program(odd) is None
    case = load_case(CASES / "aia" / "aia-we01-germany.yaml", kb)
    got, want = Solver(odd).determine(case), Solver(kb).determine(case)
    assert got.atoms == want.atoms and got.to_json()["items"] == want.to_json()["items"]


def test_split_is_built_only_for_warm_processes(tmp_path):
    fresh = KnowledgeBase.load()
    assert all(residual_when_warm(fresh, after=3) is None for _ in range(2))
    assert not fresh.has_derived("residual")  # not built for the first cases
    assert residual_when_warm(fresh, after=3) is not None
    assert residual_when_warm(fresh, after=3) is residual_for(fresh)


def test_extra_program_falls_back_to_full_program(kb):
    case = load_case(CASES / "aia" / "aia-we01-germany.yaml", kb)
    forced = Solver(kb, extra_program="red_flag(C, rf99) :- case(C).")
    assert Solver(kb).determine(case).red_flags == []
    assert forced.determine(case).red_flags == ["RF99"]
