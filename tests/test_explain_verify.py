"""The independent proof checker: it accepts the explainer's proofs and rejects corrupted ones.

By default the corpus check covers every case of tests/cases/ (about a minute on two
idle cores — see docs/explanations.md); EXPORTKB_QUICK_PROOFS=1 checks a deterministic
sample instead (the first case of every folder, and the worked examples) for quick local runs.
"""
from __future__ import annotations

import copy
import os

import clingo
import pytest

from exportkb.explain import Explainer, Proof
from exportkb.explain.verify import Checker, verify_proof
from exportkb.case.loader import load_case

from .conftest import CASES

ALL = sorted(p for p in CASES.rglob("*.yaml") if "bad" not in p.relative_to(CASES).parts)


def _sample() -> list:
    if os.environ.get("EXPORTKB_QUICK_PROOFS") != "1":
        return ALL
    firsts: dict = {}
    for p in ALL:
        firsts.setdefault(p.parent, p)
    extra = [p for p in ALL if "-we0" in p.name]
    return sorted(set(firsts.values()) | set(extra))


SAMPLE = _sample()


@pytest.fixture(scope="module")
def explainer(kb) -> Explainer:
    return Explainer(kb)


@pytest.fixture(scope="module")
def sessions(kb, explainer):
    cases = [load_case(p, kb) for p in SAMPLE]
    return explainer.cases(cases)


def _unavailable_exceptions(kb, session):
    key = clingo.String(session.model.key)
    for item in session.case.items:
        for x in sorted(kb.exception_names):
            atom = clingo.Function("exception_available", [key, clingo.String(item.id), clingo.Function(x)])
            if atom not in session.model.atoms:
                yield atom


def test_sample_covers_every_folder():
    assert {p.parent for p in ALL} <= {p.parent for p in SAMPLE}


def test_checker_accepts_every_proof_of_the_corpus(kb, sessions):
    failures = []
    n_why = n_why_not = 0
    for s in sessions:
        checker = Checker(kb, s.case)
        proofs = s.determinations()
        n_why += len(proofs)
        for atom in _unavailable_exceptions(kb, s):
            proofs.append(s.why_not(atom))
            n_why_not += 1
        for p in proofs:
            problems = checker.check(p)
            if problems:
                failures.append(f"{s.case.source}: {p.kind} {p.goal}: " + "; ".join(problems[:3]))
    assert n_why > 0 and n_why_not > 0
    assert not failures, "\n".join(failures)


# ------------------------------------------------------------ corrupted proofs
@pytest.fixture(scope="module")
def we01(kb, explainer):
    case = load_case(CASES / "aia" / "aia-we01-germany.yaml", kb)
    s = explainer.case(case)
    return case, s.explain("exception_available(gpus, aia)"), Checker(kb, case)


def _copy(proof: Proof) -> Proof:
    return Proof.from_json(copy.deepcopy(proof.to_json()))


def _find(proof: Proof, kind: str, with_children: bool | None = None) -> str:
    for n in proof.walk():
        if proof.node(n)["kind"] == kind and (with_children is None or bool(proof.children(n)) == with_children):
            return n
    raise AssertionError(f"no {kind} node")


def test_the_uncorrupted_proof_is_valid(we01):
    case, proof, checker = we01
    assert checker.check(_copy(proof)) == []


def test_rejects_wrong_rule_id(we01, kb):
    case, proof, checker = we01
    bad = _copy(proof)
    n = _find(bad, "derived", True)
    other = next(r.id for r in kb.rules if not r.is_fact and r.id != bad.node(n)["rule"]["id"])
    bad.node(n)["rule"] = dict(bad.node(n)["rule"], id=other)
    assert checker.check(bad)


def test_rejects_unknown_rule_id(we01):
    case, proof, checker = we01
    bad = _copy(proof)
    n = _find(bad, "derived", True)
    bad.node(n)["rule"] = dict(bad.node(n)["rule"], id="no.such.rule")
    assert any("no rule" in p for p in checker.check(bad))


def test_rejects_false_body_atom(we01):
    case, proof, checker = we01
    bad = _copy(proof)
    n = _find(bad, "case_fact")
    bad.node(n)["atom"] = bad.node(n)["atom"].replace('"DE"', '"CN"').replace("3A090.a", "3A090.b") \
        if ('"DE"' in bad.node(n)["atom"] or "3A090.a" in bad.node(n)["atom"]) else \
        'destination("aia-we01-germany","CN")'
    assert checker.check(bad)


def test_rejects_wrong_substitution(we01):
    case, proof, checker = we01
    bad = _copy(proof)
    n = next(x for x in bad.walk() if bad.node(x)["kind"] == "derived" and "I" in bad.node(x).get("substitution", {}))
    bad.node(n)["substitution"] = dict(bad.node(n)["substitution"], I='"other"')
    assert checker.check(bad)


def test_rejects_cycle(we01):
    case, proof, checker = we01
    bad = _copy(proof)
    leaf = bad.leaves()[0]
    bad.graph.add_edge(leaf, bad.root, order=99, role="body")
    assert any("cycle" in p for p in checker.check(bad))


def test_rejects_leaf_that_is_not_a_fact(we01):
    case, proof, checker = we01
    bad = _copy(proof)
    n = _find(bad, "derived", True)
    for c in list(bad.children(n)):
        bad.graph.remove_edge(n, c)
    assert any("neither a case fact nor a KB fact" in p for p in checker.check(bad))


def test_rejects_fact_not_in_case(we01):
    case, proof, checker = we01
    bad = _copy(proof)
    n = _find(bad, "derived", True)
    bad.node(n)["kind"] = "case_fact"
    assert any("not a fact stated by the case" in p for p in checker.check(bad))


def test_rejects_why_not_of_a_true_atom(kb, explainer):
    case = load_case(CASES / "aia" / "aia-we01-germany.yaml", kb)
    s = explainer.case(case)
    why_not = s.explain("exception_available(gpus, acm)", mode="why_not")
    assert Checker(kb, case).check(why_not) == []
    bad = _copy(why_not)
    bad.node(bad.root)["atom"] = bad.node(bad.root)["atom"].replace("acm", "aia")
    bad.atom = bad.node(bad.root)["atom"]
    assert verify_proof(bad, kb, case)


def test_rejects_why_not_missing_an_attempt(kb, explainer):
    case = load_case(CASES / "aia" / "aia-we01-germany.yaml", kb)
    proof = explainer.case(case).explain("exception_available(gpus, acm)", mode="why_not")
    bad = _copy(proof)
    attempts = [c for c in bad.children(bad.root) if bad.node(c)["kind"] == "attempt"]
    assert attempts
    bad.graph.remove_edge(bad.root, attempts[0])
    assert any("could conclude" in p for p in Checker(kb, case).check(bad))


def test_rejects_failed_condition_that_holds(kb, explainer):
    case = load_case(CASES / "aia" / "aia-we01-germany.yaml", kb)
    proof = explainer.case(case).explain("exception_available(gpus, acm)", mode="why_not")
    bad = _copy(proof)
    edges = [(u, v, d) for u, v, d in bad.graph.edges(data=True) if d.get("role") == "fails"]
    assert edges
    u, v, d = edges[0]
    rule_text = bad.node(u)["rule"]["text"]
    # point the failure at a body literal of the same rule that holds under the same substitution, if any
    checker = Checker(kb, case)
    for i in range(rule_text.count(";") + 1):
        if i == d["literal_index"]:
            continue
        bad.graph.edges[u, v]["literal_index"] = i
        if checker.check(bad):
            return
    pytest.fail("moving the failed condition to any other literal went unnoticed")


def test_rejects_program_text_smuggled_into_a_proof(kb, explainer):
    case = load_case(CASES / "aia" / "aia-we01-germany.yaml", kb)
    proof = explainer.case(case).explain("exception_available(gpus, acm)", mode="why_not")
    bad = _copy(proof)
    # claim that AIA (which IS available) is not, hiding the claim behind an extra `#false` condition
    bad.node(bad.root)["atom"] = 'exception_available("aia-we01-germany","gpus",aia), #false'
    problems = Checker(kb, case).check(bad)
    assert any("not a single condition" in p for p in problems), problems
    bad = _copy(we_proof := explainer.case(case).explain("license_required(gpus)"))
    n = next(x for x in bad.walk() if bad.node(x)["kind"] == "derived" and bad.node(x).get("substitution"))
    var = next(iter(bad.node(n)["substitution"]))
    bad.node(n)["substitution"] = dict(bad.node(n)["substitution"], **{var: '"x"). p :- q('})
    assert Checker(kb, case).check(bad)
    assert Checker(kb, case).check(_copy(we_proof)) == []
