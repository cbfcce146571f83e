"""Proofs for batch rows: the one place `exportkb batch --proofs` gets its proofs from.

Kept apart from :mod:`exportkb.batch` so that the proof format and the way proofs
are built for many cases can change without touching the batch pipeline.

A row gets one *compact* proof (``"proof_format": "compact-1"``, docs/explanations.md):
one derivation DAG covering all the case's determinations, shared steps once, every
step citing its provision through the row's ``rules`` table, no English (the
templates are in kb/). ``exportkb.explain.expand.expand`` turns it back into the
format-1 proofs of ``exportkb explain``, which ``exportkb verify`` checks.
"""
from __future__ import annotations

from typing import Any

from ..kb import KnowledgeBase
from ..model import Case


def attach_proofs(kb: KnowledgeBase, box: dict, pending: list[tuple[Case, dict[str, Any]]]) -> None:
    """Add the compact proof of every determination to each output (key ``proofs``: one ``compact-1`` object).

    The cases are recorded together in one grounding; nothing is kept between calls
    except, in ``box`` (per process), the rewritten KB and the derivations of kb/ alone.
    """
    if not pending:
        return
    from .compact import CompactRecorder  # proofs are built only when asked

    recorder = box.get("compact")
    if recorder is None or recorder.kb is not kb:
        recorder = box["compact"] = CompactRecorder(kb)
    for (_case, out), proof in zip(pending, recorder.prove_many([c for c, _ in pending])):
        out["proofs"] = proof
