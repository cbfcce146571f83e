"""Fuzzing the KB with random VALID cases (tests/strategies.py).

* every case solves to exactly one answer set (the Solver raises SolveError otherwise);
* the clingo Solver and the pyDatalog engine (exportkb.engines) give the same atoms;
* every proof of every determination is accepted by the independent checker
  (exportkb.explain.verify).

CI runs a bounded number of examples. For a release check run many more:

    EXPORTKB_FUZZ_EXAMPLES=5000 EXPORTKB_FUZZ_RANDOM=1 pytest tests/test_fuzz.py tests/test_injection.py

(EXPORTKB_FUZZ_RANDOM drops hypothesis' derandomize, so every run explores new cases;
a failure prints the shrunk case to replay.) See docs/trust.md.
"""
from __future__ import annotations


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exportkb.case.loader import case_from_data

from .strategies import SETTINGS, case_dicts, examples

EXAMPLES = examples(50)


def _cases(kb, dicts):
    cases = []
    for n, d in enumerate(dicts):
        d = dict(d, case=f"fuzz-{n}")
        cases.append(case_from_data(d, kb, source=f"<fuzz {n}>"))
    return cases


def test_every_valid_case_has_exactly_one_answer(kb, solver, voc):
    # Properties close over the fixtures (not @given arguments) so a failure prints the case, not the KB.
    @settings(max_examples=EXAMPLES, **SETTINGS)
    @given(data=st.data())
    def prop(data):
        dicts = data.draw(st.lists(case_dicts(voc), min_size=1, max_size=4), label="cases")
        cases = _cases(kb, dicts)
        dets = list(solver.determine_many(cases))  # raises SolveError unless exactly one answer set
        assert [d.case for d in dets] == [c.case for c in cases]
        for case, det in zip(cases, dets):
            assert set(det.items) == {i.id for i in case.items}
            for item in det.items.values():
                # an enforced requirement implies license_required; presumption of denial needs a requirement
                if item.license_required_enforced:
                    assert item.license_required
                if item.presumption_of_denial:
                    assert item.requirements, f"{case.case}: presumption of denial without a license requirement"
    prop()


def test_engines_agree(kb, solver, voc):
    """clingo and pyDatalog: the same shown atoms and the same JSON for every random case."""
    engines = pytest.importorskip("exportkb.engines")
    engine = engines.PyDatalogEngine(kb)

    @settings(max_examples=max(3, EXAMPLES // 5), **SETTINGS)
    @given(data=st.data())
    def prop(data):
        cases = _cases(kb, data.draw(st.lists(case_dicts(voc), min_size=1, max_size=6), label="cases"))
        for c, a, b in zip(cases, solver.determine_many(cases), engine.determine_many(cases)):
            assert a.atoms == b.atoms, f"{c.case}: clingo only {sorted(set(a.atoms) - set(b.atoms))}, " \
                                       f"pyDatalog only {sorted(set(b.atoms) - set(a.atoms))}"
            assert a.to_json() == b.to_json()
    prop()


def test_every_proof_is_accepted_by_the_checker(kb, voc):
    explain = pytest.importorskip("exportkb.explain")
    verify = pytest.importorskip("exportkb.explain.verify")
    explainer = explain.Explainer(kb)

    @settings(max_examples=max(3, EXAMPLES // 10), **SETTINGS)
    @given(data=st.data())
    def prop(data):
        (case,) = _cases(kb, [data.draw(case_dicts(voc, max_items=2, max_parties=3), label="case")])
        proofs = explain.explain_determination(kb, case, explainer)
        for proof in proofs:
            assert verify.verify_proof(proof, kb, case) == [], f"{case.case}: proof rejected"
    prop()
