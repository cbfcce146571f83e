"""Proofs for batch rows: the one place `exportkb batch --proofs` gets its proofs from.

Kept apart from :mod:`exportkb.batch` so that the proof format and the way proofs
are built for many cases can change without touching the batch pipeline.

A row gets one *compact* proof (``"proof_format": "compact-1"``, docs/explanations.md):
one derivation DAG covering all the case's determinations, shared steps once, every
step citing its provision through the row's ``rules`` table, no English (the
templates are in kb/). ``exportkb.explain.expand.expand`` turns it back into the
format-1 proofs of ``exportkb explain``, which ``exportkb verify`` checks.

Memory: clingo keeps every symbol it creates for the life of the process, and the
recorded rule instances carry per-case values, so recording chunk after chunk in one
process grows by several MB per chunk. Where ``os.fork`` exists, each chunk is
therefore recorded in a forked child (it inherits the prepared program, copy-on-write)
that sends the proofs back and exits, taking its symbols with it.
"""
from __future__ import annotations

import os
import pickle
from typing import Any

from ..kb import KnowledgeBase
from ..case.model import Case

#: record each chunk in a forked child (bounded memory); False: in this process
FORK = hasattr(os, "fork")


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
    cases = [c for c, _ in pending]
    proofs = _in_child(recorder, cases) if FORK else recorder.prove_many(cases)
    for (_case, out), proof in zip(pending, proofs):
        out["proofs"] = proof


def _in_child(recorder: Any, cases: list[Case]) -> list[dict[str, Any]]:
    """``recorder.prove_many(cases)`` computed in a forked child; its clingo symbols die with it."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into the caller's code, never run its exit handlers
        code = 0
        try:
            os.close(read)
            try:
                payload = pickle.dumps((True, recorder.prove_many(cases)), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # noqa: BLE001 - reported to the parent, raised there
                payload = pickle.dumps((False, f"{type(exc).__name__}: {exc}"))
            with os.fdopen(write, "wb") as f:
                f.write(payload)
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if not data or os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the process recording proofs for {len(cases)} case(s) failed "
                           f"(exit status {os.waitstatus_to_exitcode(status)})")
    ok, result = pickle.loads(data)
    if not ok:
        from .goals import ExplainError
        raise ExplainError(f"recording proofs for {len(cases)} case(s) (first: {cases[0].case!r}): {result}")
    return result
