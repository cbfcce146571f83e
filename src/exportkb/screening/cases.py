"""Screening the parties of a case before it is determined (``check/explain --list FILE``).

Why here and not in the loading path: a list match is a fact about the world the case file does not
state; the screener finds it, and the KB turns it into the 744.11 requirement, the 744.16(b) bar and
the entry's review policy with a proof step citing the entry (kb/parties/entity_list.lp). A hit below
the alert threshold is not handed over; a "potential" hit (an alert short of a confirmed match) holds
the determination in the KB ("resolve before export"); another unit of a listed building is handed
over as such, so the KB can tell it apart (a note, no requirement).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..case.model import Case, Party
from ..case.parties import ListHit, with_hits
from .lists import load_list
from .screen import DEFAULT_THRESHOLD, ListMatch, Screener


def address_text(party: Party) -> str:
    """The party's address as one line, the way a list entry writes it (street, city, postal code, country)."""
    a = party.address
    if a is None:
        return ""
    return ", ".join(x for x in (a.street, a.city, a.postal_code, a.country) if x)


def screener_for(path: str | Path, threshold: float = DEFAULT_THRESHOLD) -> Screener:
    """A screener over the list file *path* (CSL CSV/JSON or the KB's own facts), built once per run."""
    return Screener.build(load_list(path), threshold=threshold)


def handed_over(m: ListMatch, threshold: float) -> bool:
    """Which matches become KB facts: alerts, and other units of a listed building (never alerts)."""
    return m.kind == "same_building_other_unit" or m.score >= threshold


def hits_for_case(screener: Screener, case: Case) -> list[ListHit]:
    """Every party with a name, alias or address screened; its alerting matches as ``ListHit``s, best first."""
    out: list[ListHit] = []
    for p in case.parties:
        if not (p.name or p.aliases or p.address):
            continue
        res = screener.screen(p.id, p.name or "", address_text(p), p.country, p.aliases)
        out.extend(m.as_list_hit(screener.slist.path, screener.slist.sha256)
                   for m in res.matches if handed_over(m, screener.threshold))
    return out


def screened_case(screener: Screener, case: Case) -> Case:
    """*case* screened: its parties' hits added (an empty list still means "screened, nothing found").

    The batch calls this per row; check/explain pass the same :func:`hits_for_case` to
    ``exportkb.solve.laws.ready``, which adds them the same way (``with_hits``)."""
    return with_hits(case, hits_for_case(screener, case))


def hits_for_cases(screener: Screener, cases: Iterable[Case]) -> list[list[ListHit]]:
    """:func:`hits_for_case` for each case, in order."""
    return [hits_for_case(screener, c) for c in cases]
