"""Determinations: what the KB concluded for a case, as plain data.

Built from the shown atoms of one answer set; serialised to the stable JSON
object documented in README.md ("check --json").
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

JSON_VERSION = 1


@dataclass
class Requirement:
    id: str
    label: str
    cite: str
    enforced: bool

    def to_json(self) -> dict[str, Any]:
        # what dataclasses.asdict gives, in field order, without its recursive copy (a hot path in batches)
        return {"id": self.id, "label": self.label, "cite": self.cite, "enforced": self.enforced}


#: The review policies the JSON reports by name; ``not_stated`` (the paragraph states none) is null.
REVIEW_POLICIES = ("presumption_of_denial", "presumption_of_approval", "case_by_case", "policy_of_denial")


@dataclass
class ReviewPolicy:
    """One paragraph's review policy for one requirement of an item (``review_policy/5``)."""

    requirement: str
    policy: str
    source: str
    cite: str
    final: bool = False  # the item's policy (``license_review_policy/3``) is this one's

    def to_json(self) -> dict[str, Any]:
        return {"requirement": self.requirement, "policy": self.policy, "source": self.source,
                "cite": self.cite, "final": self.final}


@dataclass
class Guidance:
    """One BIS guidance document that applies to the case (``guidance/3``, kb/guidance/): guidance, not a
    requirement. Why a key of its own: a reader must never mistake what BIS guidance says for what the
    regulation requires, so it is kept apart from ``requirements`` and carries its document's date."""

    id: str
    about: str  # what the document flags for this case, e.g. prc_3a090_ic_needs_bis_authorization("chips")
    title: str = ""
    date: str = ""  # the document's date, YYYY-MM-DD
    cite: str = ""
    item: str | None = None  # the case item the finding concerns (its first argument), or None for the case

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": "guidance", "about": self.about, "item": self.item, "title": self.title,
                "date": self.date, "cite": self.cite}


@dataclass
class ConditionalException:
    """An exception that may be used only once *condition* (a fact the case leaves open) is confirmed."""

    exception: str
    condition: str

    def to_json(self) -> dict[str, Any]:
        return {"exception": self.exception, "condition": self.condition}


@dataclass
class ItemDetermination:
    id: str
    eccn: str | None = None
    license_required: bool | None = False  # None: not determined (e.g. an unresolved potential Entity List match)
    requirements: list[Requirement] = field(default_factory=list)
    exceptions_available: list[str] = field(default_factory=list)
    # Exceptions whose every stated condition holds but one rests on a fact the case does not give
    # (e.g. the IC designer's approval): never "available" until that fact is confirmed.
    exceptions_conditional: list[ConditionalException] = field(default_factory=list)
    presumption_of_denial: bool = False
    obligations: list[str] = field(default_factory=list)
    classification_mismatch: str | None = None
    #: The item's review policy as the KB concluded it (``license_review_policy/3``), including
    #: ``not_stated``; None when no paragraph gives one (no licence, or facts missing).
    review_policy: str | None = None
    review_policies: list[ReviewPolicy] = field(default_factory=list)
    entity_list_review_policy: list[dict[str, str]] = field(default_factory=list)  # [{"policy", "entry"}], 744.11(a)
    license_undetermined: list[str] = field(default_factory=list)  # why license_required is None
    coverage: str = "covered"  # "not_covered": the ECCN is outside the KB's ECCN-specific rules (kb/coverage.lp)
    coverage_note: str | None = None  # the sentence that says so, for people reading the JSON
    #: Which regime each authorization belongs to (kb/exceptions/pre_ifr.lp): name -> ["ifr"], ["pre_ifr"] or both.
    #: "ifr": legally in force (GAO B-337935); "pre_ifr": the regime BIS enforces after 2025-05-13.
    exception_regime: dict[str, list[str]] = field(default_factory=dict)
    #: The exceptions the pre-IFR text offers against a requirement BIS still enforces (pre-IFR 740.8 NAC/ACA).
    exceptions_pre_ifr: list[str] = field(default_factory=list)
    #: Requirements in force but not yet binding on the case date (the transition window, kb/requirements/transition.lp):
    #: [{"id", "label", "cite", "binds_from": YYYY-MM-DD}] — never requirements of the case.
    pending_requirements: list[dict[str, str]] = field(default_factory=list)

    @property
    def license_required_enforced(self) -> bool:
        return any(r.enforced for r in self.requirements)

    @property
    def license_review_policy(self) -> str | None:
        """One of :data:`REVIEW_POLICIES`, or None (no policy, or the paragraph states none)."""
        return self.review_policy if self.review_policy in REVIEW_POLICIES else None

    @property
    def license_review_policy_cite(self) -> str | None:
        """The citations of the paragraphs giving the item's policy ("; "-joined), None without one."""
        cites = sorted({p.cite for p in self.review_policies if p.final})
        return "; ".join(cites) if cites else None

    def to_json(self) -> dict[str, Any]:
        return {
            "eccn": self.eccn,
            "license_required": self.license_required,
            "license_required_enforced": self.license_required_enforced,
            "requirements": [r.to_json() for r in self.requirements],
            "exceptions_available": list(self.exceptions_available),
            "exceptions_conditional": [c.to_json() for c in self.exceptions_conditional],
            "presumption_of_denial": self.presumption_of_denial,
            "license_review_policy": self.license_review_policy,
            "license_review_policy_cite": self.license_review_policy_cite,
            "license_review_policies": [p.to_json() for p in self.review_policies],
            "obligations": list(self.obligations),
            "classification_mismatch": self.classification_mismatch,
            "entity_list_review_policy": [dict(p) for p in self.entity_list_review_policy],
            "license_undetermined": list(self.license_undetermined),
            "coverage": self.coverage,
            "coverage_note": self.coverage_note,
            "exception_regime": {k: list(v) for k, v in self.exception_regime.items()},
            "exceptions_pre_ifr": list(self.exceptions_pre_ifr),
            "pending_requirements": [dict(p) for p in self.pending_requirements],
        }


@dataclass
class Determination:
    case: str
    date: dt.date
    in_scope: bool
    items: dict[str, ItemDetermination]
    red_flags: list[str] = field(default_factory=list)
    obligations: list[str] = field(default_factory=list)
    dates: dict[str, str] = field(default_factory=dict)
    out_of_scope: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    guidance: list[Guidance] = field(default_factory=list)  # dated BIS guidance (kb/guidance/), never a requirement
    kb_version: str = ""
    source: str = ""
    regime: str = "us_ear"  # the law asked about; determinations of different regimes are never mixed
    atoms: list[str] = field(default_factory=list)  # the raw shown atoms, for debugging and engines' comparison

    def to_json(self) -> dict[str, Any]:
        """The stable JSON object (version 1) of `exportkb check --json`."""
        return {
            "format": JSON_VERSION,
            "case": self.case,
            "date": self.date.isoformat(),
            "kb_version": self.kb_version,
            "in_scope": self.in_scope,
            "out_of_scope": list(self.out_of_scope),
            "items": {k: v.to_json() for k, v in self.items.items()},
            "red_flags": list(self.red_flags),
            "obligations": list(self.obligations),
            "dates": dict(self.dates),
            "figures": dict(self.figures),
            "notes": list(self.notes),
            "guidance": [g.to_json() for g in self.guidance],
            "regime": self.regime,
        }


def iso(d: int) -> str:
    return f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}"
