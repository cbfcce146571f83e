"""Explainable proofs: why a determination holds, why another does not, and an
independent checker for both. See docs/explanations.md.

    from exportkb.explain import explain, explain_determination, verify
    proof = explain(case, "license_required(gpus)", kb)
    print(proof.render("text"))
    assert verify(proof, kb, case) == []
"""
from __future__ import annotations

from .api import DETERMINATIONS, CaseExplanations, Explainer, explain, explain_determination
from .goals import ExplainError
from .proof import PROOF_FORMAT, Proof
from .record import Recorder, RecordingProgram, rules_fired

__all__ = ["DETERMINATIONS", "CaseExplanations", "ExplainError", "Explainer", "PROOF_FORMAT", "Proof",
           "Recorder", "RecordingProgram", "explain", "explain_determination", "rules_fired"]
