"""Compact proofs (compact-1): expanded, they are exactly the proofs of `determinations()`, and the checker accepts them.

The compact recorder (explain/compact.py) shares the canonical-derivation rule with
why.py but not its code: it reads the answer as text and rebuilds atoms from format
strings. These tests hold it to the slow path's output, byte for byte after JSON,
over the case corpus (EXPORTKB_QUICK_PROOFS=1: the deterministic sample of
test_explain_verify), and to the independent checker.
"""
from __future__ import annotations

import json

import pytest

from exportkb.case.loader import case_from_data, load_case
from exportkb.explain import Explainer
from exportkb.explain.compact import COMPACT_FORMAT, CompactRecorder, FastProgram, split_values, tuple_text
from exportkb.explain.expand import expand
from exportkb.explain.verify import Checker
from exportkb.solve.residual import residual_for

from .conftest import CASES
from .test_explain_verify import SAMPLE


@pytest.fixture(scope="module")
def explainer(kb) -> Explainer:
    return Explainer(kb)


@pytest.fixture(scope="module")
def recorder(kb, explainer) -> CompactRecorder:
    return CompactRecorder(kb, FastProgram(kb, explainer.program))


@pytest.fixture(scope="module")
def corpus(kb, explainer, recorder):
    cases = [load_case(p, kb) for p in SAMPLE]
    return list(zip(cases, recorder.prove_many(cases), explainer.cases(cases)))


def _expanded(compact, kb, case, explainer):
    return [p.to_json() for p in expand(json.loads(json.dumps(compact)), kb, case, explainer.program)]


def test_expansion_is_identical_to_determinations(kb, explainer, corpus):
    differ = []
    for case, compact, session in corpus:
        if _expanded(compact, kb, case, explainer) != [p.to_json() for p in session.determinations()]:
            differ.append(case.case)
    assert differ == []


def test_checker_accepts_expanded_proofs(kb, explainer, corpus):
    firsts = {}
    for case, compact, _ in corpus:  # one case per folder: the checker re-solves each case
        firsts.setdefault(case.source.rsplit("/", 1)[0], (case, compact))
    for case, compact in firsts.values():
        checker = Checker(kb, case)
        for proof in expand(compact, kb, case, explainer.program):
            assert checker.check(proof) == [], (case.case, proof.goal)


def test_compact_form(kb, corpus):
    """Premises point at nodes, every step cites a rule of the row's table, no English in the row."""
    for case, compact, session in corpus:
        assert compact["proof_format"] == COMPACT_FORMAT and compact["kb_version"] == kb.version
        nodes = compact["nodes"]
        assert len(compact["goals"]) == len(session.determinations())
        assert all(0 <= g < len(nodes) for g in compact["goals"])
        for nd in nodes:
            assert set(nd) <= {"a", "case_fact", "k", "r", "s", "l", "p", "n", "g"}
            if nd.get("case_fact"):
                continue
            assert nd["r"] == kb.rules[nd["k"]].id and compact["rules"][nd["r"]]["cite"] == kb.rules[nd["k"]].cite
            if "l" in nd:  # derived: premises are lower in the derivation
                assert all(nodes[p].get("l", 0) < nd["l"] for p in nd["p"])
        assert set(compact["rules"]) == {nd["r"] for nd in nodes if "r" in nd}


def test_awkward_ids_survive_the_text_path(kb, explainer, recorder):
    """Ids with commas, quotes, parentheses and backslashes: atoms are rebuilt from clingo's printing, not split naively."""
    data = {"case": 'odd, "case" (1)', "date": "2025-06-01", "transaction": "export", "from": "US", "to": "DE",
            "items": [{"id": 'g,p"u(s)\\', "eccn": "3A090.a", "quantity": 500, "tpp": 15832},
                      {"id": "x(1,2)", "eccn": "4A090.a", "quantity": 2, "tpp": 4000}],
            "parties": [{"id": "c,(1)", "role": "ultimate_consignee", "country": "DE", "headquarters": "DE",
                         "ultimate_parent_headquarters": "DE"}]}
    case = case_from_data(data, kb)
    compact = recorder.prove(case)
    old = [p.to_json() for p in explainer.case(case).determinations()]
    assert len(old) > 3
    assert _expanded(compact, kb, case, explainer) == old


def test_many_cases_in_one_grounding_match_one_by_one(kb, recorder):
    paths = sorted((CASES / "lpp").glob("*.yaml"))[:4]
    cases = [load_case(p, kb) for p in paths]
    assert recorder.prove_many(cases) == [recorder.prove(c) for c in cases]


def test_expand_rejects_other_formats_and_kbs(kb, recorder, explainer):
    case = load_case(CASES / "aia" / "aia-we01-germany.yaml", kb)
    compact = recorder.prove(case)
    with pytest.raises(ValueError, match="compact-1"):
        expand({**compact, "proof_format": 1}, kb, case, explainer.program)
    with pytest.raises(ValueError, match="KB"):
        expand({**compact, "kb_version": "other"}, kb, case, explainer.program)


@pytest.mark.parametrize("text, values", [
    ("()", []),
    ('("#0",)', ['"#0"']),
    ('("#0","gpus",worldwide_a,-3)', ['"#0"', '"gpus"', "worldwide_a", "-3"]),
    ('("a,b","c\\"d,")', ['"a,b"', '"c\\"d,"']),
    ('(f(x,"y,z"),(1,2),g(h(1),2))', ['f(x,"y,z")', "(1,2)", "g(h(1),2)"]),
])
def test_split_values(text, values):
    assert split_values(text) == values
    assert tuple_text(values) == text if values else True


def test_text_reading_gives_the_same_proofs(kb, recorder, monkeypatch):
    """Without clingo's C handles (rawclingo.AVAILABLE False) the model is read from its text: same result."""
    from exportkb.explain import rawclingo
    cases = [load_case(p, kb) for p in sorted((CASES / "allocations").glob("*.yaml"))[:3]]
    fast = recorder.prove_many(cases)
    monkeypatch.setattr(rawclingo, "AVAILABLE", False)
    assert recorder.prove_many(cases) == fast


def test_single_case_fast_path_gives_the_solver_determination(kb, solver, recorder, corpus):
    """determine_and_prove (per-case rule selection): Solver.determine's determination, and the proof a chunk gives."""
    differ = []
    for case, in_chunk, _ in corpus:  # in a chunk: the whole residual program, no per-case selection
        det, single = recorder.determine_and_prove(case)
        if det.to_json() != solver.determine(case).to_json() or single != in_chunk:
            differ.append(case.case)
    assert differ == []


def test_compact_and_residual_agree_on_what_is_case_independent(kb):
    """Two analyses split kb/ into case-independent and case-dependent predicates (compact proofs read the
    rules as text; exportkb.solve.residual walks their AST). Both fast paths solve the static part once, so a
    disagreement would make one of them treat a case-dependent predicate as fixed."""
    from exportkb.explain.compact import _static_signatures

    residual = residual_for(kb)
    assert residual is not None
    heads = {r.head for r in kb.rules if r.head}
    dependent = {f"{name}/{arity}" for name, arity in residual.case_dependent}
    static = _static_signatures(kb)
    assert static == heads - dependent
    assert {"license_required/2", "exception_available/3"} <= dependent and "group_member/4" in static
