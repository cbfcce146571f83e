"""The library entry points: explain(case, goal) -> Proof, explain_determination(kb, case).

One :class:`Explainer` per KB (it holds the transformed program); one
:class:`CaseExplanations` per case (it holds the recorded answer set, so many
goals of one case cost one solve). Proofs are built only for the goals asked.
"""
from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import clingo

from ..kb import KnowledgeBase
from ..case.model import Case
from .build import ProofBuilder
from .goals import ExplainError, parse_goal, variants, with_key
from .proof import Proof
from .record import RecordedModel, Recorder, RecordingProgram
from .why import Derivations, WhyBuilder

if TYPE_CHECKING:
    from ..budget import Deadline

# The determinations a why-proof is built for (show.lp outputs that are conclusions).
DETERMINATIONS = ("license_required", "license_requirement", "exception_available", "exception_conditional",
                  "presumption_of_denial",
                  "license_review_policy",
                  "red_flag", "obligation", "case_obligation", "out_of_scope")
DEFAULT_WHY_NOT_DEPTH = 4


class Explainer:
    """Explanations against one knowledge base. Reuse one per process."""

    def __init__(self, kb: KnowledgeBase, program: RecordingProgram | None = None,
                 deadline: "Deadline | None" = None):
        self.kb = kb
        self.program = program or RecordingProgram(kb)
        self.recorder = Recorder(kb, self.program)
        #: Time/memory budget checked while proofs are built (exportkb.budget); None: unbounded.
        self.deadline = deadline

    def case(self, case: Case, model: RecordedModel | None = None) -> "CaseExplanations":
        return CaseExplanations(self, model or self.recorder.record(case))

    def cases(self, cases: list[Case]) -> list["CaseExplanations"]:
        """Record many cases in shared groundings (fast), one CaseExplanations each."""
        return [CaseExplanations(self, m) for m in self.recorder.record_many(cases)]


class CaseExplanations:
    """Why / why-not for the goals of one recorded case."""

    def __init__(self, explainer: Explainer, model: RecordedModel):
        self.explainer = explainer
        self.kb = explainer.kb
        self.program = explainer.program
        self.model = model
        self.case = model.case
        self._attrs: dict = {}  # atom -> node text, shared by this case's proofs
        self.deadline = explainer.deadline

    @cached_property
    def derivations(self) -> Derivations:
        return Derivations(self.program, self.model, self.deadline)

    @cached_property
    def queries(self):
        """The case's answer set loaded once into clingo, for why-not analyses (built on first use)."""
        from .whynot import ModelQueries
        return ModelQueries(self.model.atoms)

    # ------------------------------------------------------------------ goals
    def resolve(self, goal: str | clingo.Symbol, item: str | None = None) -> tuple[clingo.Symbol, bool]:
        """The goal atom with the internal case key, and whether it holds."""
        sym = parse_goal(goal, self.case, self.kb, item) if isinstance(goal, str) else goal
        for v in variants(sym):
            keyed = with_key(v, self.model.key)
            if keyed in self.model.atoms:
                return keyed, True
            if v in self.model.atoms:  # an atom without the case id (KB data)
                return v, True
        keyed = with_key(sym, self.model.key)
        if f"{sym.name}/{len(sym.arguments) + 1}" not in self.program.by_signature and \
                f"{sym.name}/{len(sym.arguments) + 1}" not in self.kb.inputs:
            if f"{sym.name}/{len(sym.arguments)}" in self.program.fact_signatures | set(self.program.by_signature):
                return sym, False
            raise ExplainError(f"no rule of the knowledge base concludes {sym.name}/{len(sym.arguments)} "
                               "(fix: use a predicate of kb/, e.g. license_required(ITEM), exception_available(ITEM, lpp), "
                               "red_flag(rf28); see `exportkb kb`)")
        return keyed, False

    def explain(self, goal: str | clingo.Symbol, mode: str = "auto", item: str | None = None,
                depth: int | None = None, negation_depth: int = 0) -> Proof:
        """mode: "why", "why_not", or "auto" (why if the goal holds, else why-not).

        *negation_depth* > 0: in a why-proof, each ``not p`` carries p's why-not tree of that depth.
        """
        atom, holds = self.resolve(goal, item)
        if mode == "why" and not holds:
            raise ExplainError(f"{self._display(atom)} does not hold for case {self.case.case!r} "
                               "(fix: ask --why-not to see which conditions failed)")
        if mode == "why_not" and holds:
            raise ExplainError(f"{self._display(atom)} holds for case {self.case.case!r} (fix: ask --why)")
        if holds:
            return self.why(atom, negation_depth)
        return self.why_not(atom, depth if depth is not None else DEFAULT_WHY_NOT_DEPTH)

    def why(self, atom: clingo.Symbol, negation_depth: int = 0) -> Proof:
        b = ProofBuilder(self.kb, self.program, self.model, self._attrs)
        why = WhyBuilder(b, self.derivations, deadline=self.deadline)
        if negation_depth > 0:
            from .build import Pattern
            from .whynot import WhyNotBuilder
            wn = WhyNotBuilder(b, why, self.queries)
            why.why_not = lambda a: wn.not_derived(Pattern(a.name, tuple(a.arguments)), negation_depth)
        root = why.prove(atom)
        return self._proof("why", b, atom, True, root, None)

    def why_not(self, atom: clingo.Symbol, depth: int = DEFAULT_WHY_NOT_DEPTH) -> Proof:
        from .whynot import WhyNotBuilder
        b = ProofBuilder(self.kb, self.program, self.model, self._attrs)
        why = WhyBuilder(b, self.derivations, deadline=self.deadline)
        root = WhyNotBuilder(b, why, self.queries).explain(atom, depth)
        return self._proof("why_not", b, atom, False, root, depth)

    def determinations(self, negation_depth: int = 0) -> list[Proof]:
        """A why-proof for every determination atom of the case (sorted)."""
        key = clingo.String(self.model.key)
        atoms = sorted(a for a in self.model.atoms
                       if a.name in DETERMINATIONS and a.arguments and a.arguments[0] == key)
        proofs = []
        for a in atoms:
            if self.deadline is not None:
                self.deadline.check()
            proofs.append(self.why(a, negation_depth))
        return proofs

    def _display(self, atom: clingo.Symbol) -> str:
        return ProofBuilder(self.kb, self.program, self.model, self._attrs).display(atom)

    def _proof(self, kind: str, b: ProofBuilder, atom: clingo.Symbol, holds: bool, root: str,
               depth: int | None) -> Proof:
        return Proof(kind=kind, goal=b.display(atom), atom=b.full(atom), holds=holds, case_id=self.case.case,
                     case_date=self.case.date.isoformat(), kb_version=self.kb.version, graph=b.graph, root=root,
                     case_source=self.case.source, depth=depth)


def explain(case: Case, goal: str | clingo.Symbol, kb: KnowledgeBase | None = None, mode: str = "auto",
            item: str | None = None, depth: int | None = None, explainer: Explainer | None = None) -> Proof:
    """Why (or why not) *goal* holds for *case*. Goals are written without the case id."""
    ex = explainer or Explainer(kb or KnowledgeBase.load())
    return ex.case(case).explain(goal, mode=mode, item=item, depth=depth)


def explain_determination(kb: KnowledgeBase, case: Case, explainer: Explainer | None = None) -> list[Proof]:
    """A why-proof for every determination of *case* (license required, exceptions, red flags ...)."""
    return (explainer or Explainer(kb)).case(case).determinations()
