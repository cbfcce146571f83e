"""Restricted-party screening results as the case layer receives them.

Why a plain dataclass here: the screening lane (``exportkb screen``) produces matches and the
loading path turns them into KB facts; :class:`ListHit` is the one boundary type both sides agree
on (docs/case-format.md, "Screening hits"). A caller hands a case's hits to
:func:`exportkb.solve.laws.ready` (``hits=``); a case file may also record them under ``screening:``.
The free-text columns of a list entry (licence requirement, review policy) are mapped here to the
KB's constants, conservatively: a requirement text that does not plainly say "all items subject to
the EAR" becomes ``partial`` (the KB then holds the determination and asks the user to read the entry).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Iterable, Literal

from .model import Case, ScreeningHit

MatchedOn = Literal["name", "alias", "address"]
HitKind = Literal["match", "potential", "address_only", "same_building_other_unit"]
MATCHED_ON = ("name", "alias", "address")
HIT_KINDS = ("match", "potential", "address_only", "same_building_other_unit")


@dataclass(frozen=True)
class ListHit:
    """One screening hit: a party of a case against one list entry (contract shared with the screener)."""

    party_id: str
    entry_id: str
    source: str
    entry_name: str
    matched_on: MatchedOn
    kind: HitKind
    score: float
    federal_register_notice: str
    license_requirement: str
    license_policy: str
    #: where the hit came from: the list file screened against and its SHA-256 (the proof names both)
    list_file: str = ""
    list_version: str = ""


_ALL_ITEMS = re.compile(r"\ball items subject to the EAR\b", re.I)
_LIMITING = re.compile(r"\b(except|excluding|other than|only|limited to|listed on the CCL|described in|specified in)\b", re.I)
_POLICIES = (
    ("presumption_of_denial", re.compile(r"presumption\s+of\s+denial", re.I)),
    ("presumption_of_approval", re.compile(r"presumption\s+of\s+approval", re.I)),
    ("case_by_case", re.compile(r"case[-\s]+by[-\s]+case", re.I)),
    ("policy_of_denial", re.compile(r"policy\s+of\s+denial", re.I)),
)


def requirement_scope(text: str) -> str | None:
    """``all_items`` when the column plainly covers every item subject to the EAR, ``partial`` for any
    other non-empty text (it limits the items, or the KB cannot read it), None when empty."""
    text = text.strip()
    if not text:
        return None
    return "all_items" if _ALL_ITEMS.search(text) and not _LIMITING.search(text) else "partial"


def review_policies(text: str) -> list[str]:
    """The review policies a policy column names (several when it splits by item), in a fixed order."""
    return [name for name, rx in _POLICIES if rx.search(text)]


def to_record(hit: ListHit) -> ScreeningHit:
    """The case-file form of a hit (validated like any case field)."""
    data = asdict(hit)
    data["score"] = Decimal(str(hit.score))
    return ScreeningHit.model_validate(data)


def with_hits(case: Case, hits: Iterable[ListHit]) -> Case:
    """A copy of *case* screened with *hits* (added to those the file records; an empty list still
    means "screened, nothing found"). Private attributes (source, lines) are kept."""
    records = list(case.screening or []) + [to_record(h) for h in hits]
    return case.model_copy(update={"screening": records})
