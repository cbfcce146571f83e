"""Proofs for batch rows: the one place `exportkb batch --proofs` gets its proofs from.

Kept apart from :mod:`exportkb.batch` so that the proof format and the way proofs
are built for many cases can change without touching the batch pipeline.
"""
from __future__ import annotations

from typing import Any

from ..kb import KnowledgeBase
from ..model import Case


def attach_proofs(kb: KnowledgeBase, box: dict, pending: list[tuple[Case, dict[str, Any]]]) -> None:
    """Add why-proofs of every determination (JSON, format of docs/explanations.md) to the outputs.

    The cases are recorded together in one grounding; proofs are built only for these cases.
    ``box`` keeps per-process state (the Explainer) between calls.
    """
    if not pending:
        return
    from .api import Explainer  # the explanation layer records rule firings

    explainer = box.setdefault("explainer", Explainer(kb))
    for (case, out), expl in zip(pending, explainer.cases([c for c, _ in pending])):
        out["proofs"] = [proof.to_json() for proof in expl.determinations()]
