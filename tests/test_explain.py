"""Explanations: why-proofs from recorded firings, why-not trees, the Proof API and the CLI."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from exportkb.cli import main
from exportkb.explain import Explainer, ExplainError, Proof, explain
from exportkb.explain.fields import INPUT_FIELDS
from exportkb.case.loader import load_case

from .conftest import CASES

WE01 = CASES / "aia" / "aia-we01-germany.yaml"


@pytest.fixture(scope="module")
def explainer(kb) -> Explainer:
    return Explainer(kb)


@pytest.fixture(scope="module")
def we01(kb, explainer):
    return explainer.case(load_case(WE01, kb))


def test_every_input_predicate_has_a_case_field(kb):
    missing = [sig for sig in kb.inputs if sig.split("/")[0] not in INPUT_FIELDS]
    assert not missing, f"add these inputs to explain/fields.py INPUT_FIELDS: {missing}"


def test_why_proof_reaches_facts_of_the_case(kb, we01):
    proof = we01.explain("license_required(gpus)")
    assert proof.kind == "why" and proof.holds
    root = proof.node(proof.root)
    assert root["kind"] == "derived"
    assert kb.rules_by_id[root["rule"]["id"]][0].head == "license_required/2"
    for leaf in proof.leaves():
        assert proof.node(leaf)["kind"] in ("case_fact", "kb_fact", "absent", "comparison", "aggregate")
    facts = [proof.node(n) for n in proof.walk() if proof.node(n)["kind"] == "case_fact"]
    assert facts, "a license requirement rests on the case file"
    for f in facts:
        assert f["field"]["file"] == str(WE01)
        assert f["field"]["line"] is not None


def test_statements_come_from_templates(kb, we01):
    proof = we01.explain("license_required(gpus)")
    tpl = kb.templates["license_required/2"].text
    assert proof.node(proof.root)["statement"] == tpl.replace("{I}", "gpus").replace("{C}", "aia-we01-germany")


def test_shared_subproof_is_one_node(we01):
    proof = we01.explain("exception_available(gpus, aia)")
    atoms = [proof.node(n)["atom"] for n in proof.graph.nodes if proof.node(n)["kind"] != "comparison"]
    assert len(atoms) == len(set(atoms))


def test_proofs_are_deterministic(kb, explainer):
    a = explainer.case(load_case(WE01, kb)).explain("exception_available(gpus, aia)").to_json()
    b = Explainer(kb).case(load_case(WE01, kb)).explain("exception_available(gpus, aia)").to_json()
    assert a == b


def test_json_round_trip(we01):
    proof = we01.explain("license_required(gpus)")
    again = Proof.from_json(json.loads(proof.dumps()))
    assert again.to_json() == proof.to_json()


def test_friendly_goals(we01):
    assert we01.explain("AIA", item="gpus").goal == "exception_available(gpus, aia)"
    with pytest.raises(ExplainError):
        we01.explain("AIA")


def test_why_of_false_atom_is_refused(we01):
    with pytest.raises(ExplainError):
        we01.explain("license_required(nosuchitem)", mode="why")


def test_library_call(kb):
    case = load_case(WE01, kb)
    proof = explain(case, "license_required(gpus)", kb)
    assert proof.case_id == case.case and proof.case_date == "2025-06-01" and proof.kb_version == kb.version


def test_cli_explain_all_and_errors():
    runner = CliRunner()
    res = runner.invoke(main, ["explain", str(WE01)])
    assert res.exit_code == 0, res.output
    assert "WHY license_required(gpus)" in res.output
    res = runner.invoke(main, ["explain", str(WE01), "--why", "license_required(nosuch)"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    res = runner.invoke(main, ["explain", str(WE01), "--why", "license_required(gpus"])
    assert res.exit_code == 2


def test_json_matches_the_published_schema(we01, kb):
    jsonschema = pytest.importorskip("jsonschema")
    from exportkb.explain.proof import load_schema
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    proofs = we01.determinations() + [we01.explain("ACM", item="gpus")]
    for p in proofs:
        jsonschema.validate(p.to_json(), schema)
    bad = proofs[0].to_json()
    bad["nodes"][0]["kind"] = "guess"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_graph_renderings_name_every_node(we01, fmt):
    proof = we01.explain("license_required(gpus)")
    out = proof.render(fmt)
    for n in proof.graph.nodes:
        assert n in out
    assert out.count("-->" if fmt == "mermaid" else "->") >= proof.graph.number_of_edges()


def test_why_not_names_the_failed_condition(kb, explainer):
    case = load_case(CASES / "aia" / "aia-we02-parent-outside.yaml", kb)
    proof = explainer.case(case).explain("AIA", item="gpus", mode="why_not")
    assert proof.kind == "why_not" and not proof.holds
    attempts = [n for n in proof.children(proof.root) if proof.node(n)["kind"] == "attempt"]
    # every KB rule that concludes exception_available(_, _, aia) is examined
    heads = {r.id for r in kb.rules if r.head == "exception_available/3" and not r.is_fact and ",aia)" in r.text.split(":-")[0]}
    assert {proof.node(a)["rule"]["id"] for a in attempts} == heads
    for a in attempts:
        assert proof.children(a), "each attempt names at least one failed condition"
    # the regulation's reason (740.27(a): parent headquartered outside the allies) is a blocked negation
    blocked = [n for n in proof.walk() if proof.node(n)["kind"] == "negation_fails"]
    assert blocked and all(proof.children(b) for b in blocked)
    assert "parties[0].ultimate_parent_headquarters" in proof.case_fields()


def test_cli_why_not_and_verify_round_trip(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["explain", str(WE01), "--why-not", "ACM", "--item", "gpus", "--format", "json"])
    assert res.exit_code == 0, res.output
    path = tmp_path / "proof.json"
    path.write_text(res.output)
    res = runner.invoke(main, ["verify", str(path)])
    assert res.exit_code == 0 and res.output.startswith("valid"), res.output
    path.write_text(res.output.replace("valid", "{"))
    res = runner.invoke(main, ["verify", str(path)])
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_explain_determination_covers_what_the_solver_determined(kb, solver):
    from exportkb.explain import DETERMINATIONS, explain_determination
    case = load_case(CASES / "aia" / "aia-we03-253m.yaml", kb)
    det = solver.determine(case)
    expected = sorted(a for a in det.atoms if a.split("(")[0] in DETERMINATIONS)
    proofs = explain_determination(kb, case)
    assert sorted(p.atom for p in proofs) == expected
    assert all(p.holds and p.kind == "why" for p in proofs)


def test_negations_can_be_expanded_and_still_verify(kb, we01):
    from exportkb.explain.verify import Checker
    plain = we01.explain("license_required(gpus)")
    expanded = we01.explain("license_required(gpus)", negation_depth=1)
    kinds = lambda p: {p.node(n)["kind"] for n in p.walk()}  # noqa: E731
    assert "absent" in kinds(plain) and "absent" not in kinds(expanded) and "not_derived" in kinds(expanded)
    assert len(expanded.case_fields()) > len(plain.case_fields())  # the absent facts now name their fields
    assert Checker(kb, we01.case).check(expanded) == []
