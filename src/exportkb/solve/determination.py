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
    license_required: bool = False
    requirements: list[Requirement] = field(default_factory=list)
    exceptions_available: list[str] = field(default_factory=list)
    # Exceptions whose every stated condition holds but one rests on a fact the case does not give
    # (e.g. the IC designer's approval): never "available" until that fact is confirmed.
    exceptions_conditional: list[ConditionalException] = field(default_factory=list)
    presumption_of_denial: bool = False
    obligations: list[str] = field(default_factory=list)
    classification_mismatch: str | None = None

    @property
    def license_required_enforced(self) -> bool:
        return any(r.enforced for r in self.requirements)

    def to_json(self) -> dict[str, Any]:
        return {
            "eccn": self.eccn,
            "license_required": self.license_required,
            "license_required_enforced": self.license_required_enforced,
            "requirements": [r.to_json() for r in self.requirements],
            "exceptions_available": list(self.exceptions_available),
            "exceptions_conditional": [c.to_json() for c in self.exceptions_conditional],
            "presumption_of_denial": self.presumption_of_denial,
            "obligations": list(self.obligations),
            "classification_mismatch": self.classification_mismatch,
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
    kb_version: str = ""
    source: str = ""
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
        }


def iso(d: int) -> str:
    return f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}"
