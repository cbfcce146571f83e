"""The residual split: a KB's case-independent part solved once, and per case only the rules and static atoms it can use.

Why: a warm :meth:`Solver.determine` used to add the whole parsed KB to a fresh
``clingo.Control`` and ground it — ~2,700 statements, most of them facts about
countries, dated group membership and parameters that are the same for every
case. Grounding that case-independent part once per :class:`KnowledgeBase`,
handing each case only the static atoms it can use and only the residual rules
that can fire for it cuts a determination from ~21 ms to ~9 ms of CPU (see
docs/batch.md, "Single-case latency"). What remains is mostly clingo's fixed cost
per ground call (~40 µs per rule, whatever the number of atoms — re-grounding a
program part in a multi-shot control costs the same), so the number of rules
grounded is what counts. (The chunked batch path does not need this: there the
static part is grounded once per chunk of hundreds of cases.)

The soundness argument has three parts, one module each, read in this order:

1. :mod:`.split` — which predicates depend on the case; the static part is the
   bottom of a splitting set, solved once (the splitting theorem);
2. :mod:`.domains` — which values a case-dependent atom can carry at each argument
   (``dom(q, i)``), and where the case key may be written into a rule;
3. :mod:`.filter` — for one case, the static atoms that can meet some rule instance
   and the residual rules that can fire, both over-approximations.

:mod:`.program` puts them together (:func:`residual_program`, one per KB through
:func:`residual_for`) and :mod:`.run` solves a case with the result. Equality with
the full program is tested case by case in ``tests/test_residual.py``.

Anything the analysis does not know (choice or disjunctive heads, classical
negation, ``#external``, ``#const``, ``#script``, theory atoms, program parts
other than ``base``, a static part without exactly one answer set) makes
:func:`residual_program` return None, and callers fall back to the full program.
"""
from __future__ import annotations

from .domains import KEY, TOP
from .filter import case_natives
from .program import ResidualProgram, residual_for, residual_program, residual_when_warm
from .run import shown_atoms, solve_rows, solve_rows_many
from .split import Unsupported

__all__ = ["KEY", "TOP", "ResidualProgram", "Unsupported", "case_natives", "residual_for", "residual_program",
           "residual_when_warm", "shown_atoms", "solve_rows", "solve_rows_many"]
