"""`exportkb verify` rejects forged proofs and refuses to read anything but a regular case file.

The proofs are real ones of examples/uae-datacenter.yaml (2,000 H100-class GPUs to a UAE
data-centre operator on 2025-06-01: a license is required under 15 CFR 742.6(a)(6)(iii); LPP is
not available because 2,000 x 15,832 TPP exceeds the LPP cap of 26,900,000). Each test changes
one thing a reader trusts — a citation, a source, a rule's wording or text, the goal, the kind,
the holds flag, the date, the KB version, a case field's provenance, a node id — and expects
exit 1 with a message naming the step and what differs. The untampered proofs must verify, so
every test here can fail both ways.
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner

from exportkb.cli import main

from .conftest import ROOT

CASE = ROOT / "examples" / "uae-datacenter.yaml"


def _cli(*args: str):
    return CliRunner().invoke(main, [*map(str, args)])


@pytest.fixture(scope="module")
def proofs() -> dict[str, dict]:
    why = _cli("explain", CASE, "--why", "license_required(gpus)", "--format", "json")
    assert why.exit_code == 0, why.output
    why_not = _cli("explain", CASE, "--why-not", "exception_available(gpus, lpp)", "--format", "json")
    assert why_not.exit_code == 0, why_not.output
    # AIA is not available (the UAE is not a Tier 1 country): a deeper why-not, with a pattern step
    # (depth 5: the pattern step sits under aia_conditions_met, one level below aia.available)
    why_not_aia = _cli("explain", CASE, "--why-not", "exception_available(gpus, aia)", "--format", "json",
                       "--depth", "5")
    assert why_not_aia.exit_code == 0, why_not_aia.output
    # ACM is not available: model training is not a permitted end use (a fact kb/ does not list)
    why_not_acm = _cli("explain", CASE, "--why-not", "exception_available(gpus, acm)", "--format", "json")
    assert why_not_acm.exit_code == 0, why_not_acm.output
    return {"why": json.loads(why.output), "why_not": json.loads(why_not.output),
            "why_not_aia": json.loads(why_not_aia.output), "why_not_acm": json.loads(why_not_acm.output)}


def _reason(reason: str) -> Callable[[dict], dict]:
    return lambda d: _node(d, lambda n: n.get("reason") == reason)


def _pattern(d: dict) -> dict:
    return _node(d, lambda n: n.get("pattern") is True)


def _comparison(d: dict) -> dict:
    return _node(d, lambda n: n["kind"] == "comparison")


def _verify(tmp_path: Path, data: Any):
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return _cli("verify", path)


def _node(d: dict, pred: Callable[[dict], bool]) -> dict:
    return next(n for n in d["nodes"] if pred(n))


def _derived(d: dict) -> dict:
    return _node(d, lambda n: n["kind"] == "derived")


def _kb_fact(d: dict) -> dict:
    return _node(d, lambda n: n["kind"] == "kb_fact")


def _case_fact(d: dict) -> dict:
    return _node(d, lambda n: n["kind"] == "case_fact" and n.get("field", {}).get("path") == "items[0].eccn")


def _attempt(d: dict) -> dict:
    return _node(d, lambda n: n["kind"] == "attempt")


def _set(getter: Callable[[dict], dict], key: str, value: Any) -> Callable[[dict], str]:
    def tamper(d: dict) -> str:
        n = getter(d)
        n[key] = value(n[key]) if callable(value) else value
        return n.get("id", "")
    return tamper


def _set_rule(getter: Callable[[dict], dict], key: str, value: Any) -> Callable[[dict], str]:
    def tamper(d: dict) -> str:
        n = getter(d)
        n["rule"][key] = value(n["rule"][key]) if callable(value) else value
        return n["id"]
    return tamper


def _set_field(key: str, value: Any) -> Callable[[dict], str]:
    def tamper(d: dict) -> str:
        n = _case_fact(d)
        n["field"][key] = value(n["field"][key]) if callable(value) else value
        return n["id"]
    return tamper


def _top(key: str, value: Any) -> Callable[[dict], str]:
    def tamper(d: dict) -> str:
        d[key] = value
        return ""
    return tamper


def _duplicate_id(d: dict) -> str:
    n = copy.deepcopy(_kb_fact(d))
    victim = _derived(d)
    n["id"] = victim["id"]
    d["nodes"].append(n)
    return victim["id"]


def _edge_literal(d: dict) -> str:
    e = next(e for e in d["edges"] if e.get("literal"))
    e["literal"] = "license_requirement(C,I,worldwide_b)"
    return e["from"]


# (proof, tampering, words the message must contain besides the node id)
FORGERIES = {
    "cite": ("why", _set_rule(_derived, "cite", "15 CFR 740.2 (forged)"), ["cite", "15 CFR 740.2 (forged)"]),
    "source": ("why", _set_rule(_derived, "source", "a memo nobody wrote"), ["source", "a memo nobody wrote"]),
    "reads": ("why", _set_rule(_derived, "reads", "No license is ever required."), ["reads", "No license is ever required."]),
    "rule text": ("why", _set_rule(_derived, "text", "license_required(C,I) :- item(C,I)."), ["text"]),
    "rule file": ("why", _set_rule(_derived, "file", "exceptions/lpp.lp"), ["file", "exceptions/lpp.lp"]),
    "rule line": ("why", _set_rule(_derived, "line", 1), ["line"]),
    "kb fact cite": ("why", _set_rule(_kb_fact, "cite", "90 FR 1 (forged)"), ["cite", "90 FR 1 (forged)"]),
    "attempt reads": ("why_not", _set_rule(_attempt, "reads", "LPP is never available."), ["reads"]),
    "attempt statement": ("why_not", _set(_attempt, "statement", "LPP is never available."), ["statement"]),
    "attempt display": ("why_not", _set(_attempt, "display", "lpp.forged"), ["display"]),
    "display": ("why", _set(_derived, "display", "license_required(chips)"), ["display", "license_required(chips)"]),
    "node holds": ("why", _set(_derived, "holds", False), ["holds"]),
    "goal": ("why", _top("goal", "license_required(chips)"), ["goal", "license_required(chips)"]),
    "kind": ("why", _top("kind", "why_not"), ["kind"]),
    "unknown kind": ("why", _top("kind", "because"), ["kind"]),
    "holds": ("why", _top("holds", False), ["holds"]),
    "why-not holds": ("why_not", _top("holds", True), ["holds"]),
    "date": ("why", _top("case_date", "2024-06-01"), ["2024-06-01", "2025-06-01"]),
    "kb version": ("why", _top("kb_version", "000000000000"), ["000000000000"]),
    "field path": ("why", _set_field("path", "items[0].kind"), ["items[0].kind", "items[0].eccn"]),
    "field line": ("why", _set_field("line", lambda v: v + 1), ["line"]),
    "field file": ("why", _set_field("file", "elsewhere.yaml"), ["elsewhere.yaml"]),
    "field stated": ("why", _set_field("stated", False), ["stated"]),
    "field removed": ("why", lambda d: (_case_fact(d).pop("field"), _case_fact_id(d))[1], ["field"]),
    "duplicate node id": ("why", _duplicate_id, ["duplicate"]),
    "pattern statement": ("why_not_aia", _set(_pattern, "statement", "the UAE is a Tier 1 country."), ["statement"]),
    "pattern flag": ("why_not_aia", _set(_pattern, "pattern", False), ["pattern"]),
    "derived statement": ("why", _set(_derived, "statement", "no license is required."), ["statement"]),
    "comparison atom": ("why_not", _set(_comparison, "atom", "1 <= 2"), ["1 <= 2"]),
    "reason not_in_kb -> no_rule": ("why_not_acm", _set(_reason("not_in_kb"), "reason", "no_rule"), ["reason", "not_in_kb"]),
    "reason not_stated -> depth": ("why_not_aia", _set(_reason("not_stated"), "reason", "depth"), ["reason", "not_stated"]),
    "expanded with reason depth": ("why_not_aia", _set(_reason("depth"), "expanded", True), ["expanded"]),
    "unknown attribute": ("why", _set(_derived, "note", "approved by counsel"), ["note"]),
    "edge literal": ("why", _edge_literal, ["literal", "worldwide_b"]),
}


def _case_fact_id(d: dict) -> str:
    return next(n["id"] for n in d["nodes"] if n["kind"] == "case_fact" and "field" not in n)


def test_the_untampered_proofs_verify(proofs, tmp_path):
    for d in proofs.values():
        result = _verify(tmp_path, d)
        assert result.exit_code == 0, result.output
        assert result.output.startswith("valid ")
    result = _verify(tmp_path, list(proofs.values()))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_a_forgery_does_not_verify(proofs, tmp_path, name):
    which, tamper, words = FORGERIES[name]
    d = copy.deepcopy(proofs[which])
    nid = tamper(d)
    result = _verify(tmp_path, d)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("INVALID"), result.output
    problems = [line for line in result.output.splitlines() if line.startswith("  - ")]
    assert any(all(w in line for w in words) and (not nid or f"{nid}" in line) for line in problems), result.output


@pytest.mark.parametrize("data, words", [([], "no proofs"), ({}, "not a proof of format 1"), (7, "not a proof")])
def test_a_file_without_a_proof_is_refused(tmp_path, data, words):
    result = _verify(tmp_path, data)
    assert result.exit_code == 2, result.output
    assert words in result.output and "proof.json" in result.output and "fix:" in result.output
    assert "Traceback" not in result.output


# ------------------------------------------------------------------ item 8: case_source
def _with_source(proofs: dict, source: str) -> dict:
    d = copy.deepcopy(proofs["why"])
    d["case_source"] = source
    return d


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_case_source_dev_zero_is_refused(proofs, tmp_path):
    result = _verify(tmp_path, _with_source(proofs, "/dev/zero"))
    assert result.exit_code == 2, result.output
    assert "/dev/zero" in result.output and "not a regular file" in result.output and "fix:" in result.output


def test_case_source_directory_is_refused(proofs, tmp_path):
    result = _verify(tmp_path, _with_source(proofs, str(ROOT / "examples")))
    assert result.exit_code == 2, result.output
    assert "not a regular file" in result.output and "fix:" in result.output


def test_case_source_huge_file_is_refused(proofs, tmp_path):
    from exportkb.case.loader import MAX_FILE_BYTES

    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as fh:  # sparse: no disk space used
        fh.truncate(MAX_FILE_BYTES + 1)
    result = _verify(tmp_path, _with_source(proofs, str(huge)))
    assert result.exit_code == 2, result.output
    assert "huge.yaml" in result.output and "at most" in result.output and "fix:" in result.output


def test_missing_case_source_is_refused(proofs, tmp_path):
    result = _verify(tmp_path, _with_source(proofs, str(tmp_path / "gone.yaml")))
    assert result.exit_code == 2, result.output
    assert "gone.yaml" in result.output and "fix:" in result.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_case_source_fifo_is_refused_without_hanging(proofs, tmp_path):
    fifo = tmp_path / "case.yaml"
    os.mkfifo(fifo)
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(_with_source(proofs, str(fifo))), encoding="utf-8")
    # A subprocess with a timeout: opening a FIFO for reading blocks until a writer comes.
    try:
        done = subprocess.run([str(Path(sys.executable).with_name("exportkb")), "verify", str(path)], capture_output=True,
                              text=True, timeout=60, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail("exportkb verify hangs on a FIFO named as case_source")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "not a regular file" in done.stdout + done.stderr


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_proof_file_dev_zero_is_refused():
    result = _cli("verify", "/dev/zero")
    assert result.exit_code == 2, result.output
    assert "/dev/zero" in result.output and "fix:" in result.output
