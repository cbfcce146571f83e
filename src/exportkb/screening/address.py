"""Addresses: the building and the unit, compared separately.

Why: an address-only Entity List entry (15 CFR 744.16(f), the 12 June 2024 rule) lists *one*
office — "Room 1318-19, 13F, Hollywood Plaza, 610 Nathan Road" — and a party elsewhere in the
same building is not using the listed address. A token-set ratio gives that neighbour 0.93-0.98
(shared/reference/screening.md §A1); here the building and the unit are scored apart, and a
party in another unit of the same building gets a "same building, other unit" flag below the
alert threshold instead of an alert.

Address words are folded with :data:`ABBREVIATIONS` (the keyword forms Hong Kong, Turkish and
Anglo addresses use: Rd = Road, Rm = Room, /F = Floor, Wanchai = Wan Chai, HK = Hong Kong).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from .normalize import basic

#: Address keyword forms -> one spelling (after :func:`basic`: lower case ASCII, punctuation a space)
ABBREVIATIONS = {
    "rd": "road", "st": "street", "str": "street", "ave": "avenue", "av": "avenue", "blvd": "boulevard",
    "ln": "lane", "ctr": "centre", "cntr": "centre", "center": "centre", "bldg": "building", "bld": "building",
    "twr": "tower", "plz": "plaza", "hse": "house", "ind": "industrial", "comm": "commercial", "ctre": "centre",
    "hk": "hong kong", "hksar": "hong kong", "kln": "kowloon", "wanchai": "wan chai", "tst": "tsim sha tsui",
    "mongkok": "mong kok", "fayuen": "fa yuen", "cad": "caddesi", "cd": "caddesi", "sok": "sokak", "sk": "sokak",
    "mah": "mahallesi", "mh": "mahallesi", "no": "", "number": "", "nr": "",
    "s": "south", "n": "north", "e": "east", "w": "west",
}
#: Words that say where, not which building: they weigh nothing in the building comparison
PLACE_WORDS = {"hong", "kong", "kowloon", "new", "territories", "china", "prc", "turkey", "turkiye", "istanbul",
               "sar", "the", "of", "and"}

_UNIT = re.compile(r"\b(?:flat\s*/?\s*rm|flat\s*/?\s*room|room|rm|unit|flat|office|suite|ste|shop|apt|apartment|daire)"
                   r"\s*\.?\s*(?P<u>[a-z]?\d+[a-z]?(?:to\d+)?|[a-z])\b")
_FLOOR = re.compile(r"\b(?P<f>\d+)\s*/\s*f\b|\b(?P<g>\d+)\s*f\b|\b(?P<h>\d+)(?:st|nd|rd|th)?\s+(?:floor|fl|kat)\b"
                    r"|\b(?:floor|fl|kat)\s+(?P<i>\d+)\b")


@dataclass(frozen=True)
class ParsedAddress:
    """An address as its building tokens (street, number, building name, district) and its unit/floor."""

    text: str
    building: tuple[str, ...]
    units: frozenset[str]
    floor: str = ""

    @cached_property
    def numbers(self) -> frozenset[str]:
        """The numbers of the building part (street number, a building's number): they must agree."""
        return frozenset(t for t in self.building if t[:1].isdigit())


def _expand(unit: str) -> set[str]:
    """A unit as the set of units it names: "1318-19" is rooms 1318 and 1319, "1318-20" 1318 to 1320."""
    m = re.fullmatch(r"(\d+)to(\d+)", unit)
    if m:
        a, b = m.group(1), m.group(2)
        if len(b) < len(a):
            b = a[: len(a) - len(b)] + b
        lo, hi = int(a), int(b)
        if 0 <= hi - lo <= 20:
            return {str(n) for n in range(lo, hi + 1)}
    return {unit}


def parse_address(text: str) -> ParsedAddress:
    """Split an address line into building tokens and unit/floor (see the module docstring)."""
    s = basic(re.sub(r"(\d)\s*-\s*(\d)", r"\1to\2", text).replace("/", " / "))
    s = re.sub(r"\s*/\s*", "/", s)
    floor = ""
    fm = _FLOOR.search(s)
    if fm:
        floor = next(g for g in fm.groups() if g)
        s = s[: fm.start()] + " " + s[fm.end():]
    units: set[str] = set()
    for um in list(_UNIT.finditer(s)):
        units |= _expand(um.group("u"))
    s = _UNIT.sub(" ", s).replace("/", " ")
    words: list[str] = []
    for w in s.split():
        w2 = ABBREVIATIONS.get(w, w)
        words.extend(w2.split())
    building = tuple(w for w in words if w not in PLACE_WORDS)
    return ParsedAddress(text=text, building=building, units=frozenset(units), floor=floor)


#: share of an address score that the building carries; the rest is the unit
BUILDING_SHARE = 0.7
UNIT_SHARE = 0.3


def numbers_agree(query: ParsedAddress, listed: ParsedAddress) -> bool:
    """The building numbers do not contradict each other (one side has none, or one set holds the other)."""
    q, n = query.numbers, listed.numbers
    return not q or not n or bool(q & n) and (q <= n or n <= q)


def compare_addresses(query: ParsedAddress, listed: ParsedAddress) -> tuple[float, bool, list[dict[str, object]]]:
    """Score ``query`` against a listed address: (score, same building with another unit?, explanation).

    The score is the sum of two parts: the building (its tokens' overlap, both ways, × 0.7; 0 if the
    street numbers disagree) and the unit (0.3 when the units or floors agree or the listing names
    no unit; 0.15 when the party gives none; 0 when they differ)."""
    from .extras import need
    fuzz = need("rapidfuzz").fuzz

    qa, la = " ".join(query.building), " ".join(listed.building)
    if not qa or not la:
        return 0.0, False, []
    expl: list[dict[str, object]] = []
    numbers_ok = numbers_agree(query, listed)
    if not numbers_ok:
        b = 0.0
        how = f"street numbers differ: {sorted(query.numbers)} vs {sorted(listed.numbers)}"
    else:
        b = fuzz.token_set_ratio(qa, la) / 100.0
        if b < 0.9:
            b = min(b, fuzz.token_sort_ratio(qa, la) / 100.0)
        how = f"building tokens {qa!r} vs {la!r}: token-set similarity {b:.3f}"
    bp = round(BUILDING_SHARE * b, 6)
    expl.append({"op": "building", "query": qa, "list": la, "points": bp, "how": how})
    same_building = b >= 0.9
    other_unit = False
    if listed.units:
        if query.units & listed.units:
            up, how = UNIT_SHARE, f"unit {sorted(query.units & listed.units)} listed"
        elif query.units:
            up, how, other_unit = 0.0, f"unit {sorted(query.units)} is not the listed {sorted(listed.units)}", True
        elif query.floor and listed.floor and query.floor != listed.floor:
            up, how, other_unit = 0.0, f"floor {query.floor} is not the listed floor {listed.floor}", True
        else:
            up, how = UNIT_SHARE / 2, f"no unit given; the listing names unit {sorted(listed.units)}"
    elif listed.floor:
        if query.floor == listed.floor:
            up, how = UNIT_SHARE, f"floor {listed.floor} listed"
        elif query.floor:
            up, how, other_unit = 0.0, f"floor {query.floor} is not the listed floor {listed.floor}", True
        else:
            up, how = UNIT_SHARE / 2, f"no floor given; the listing names floor {listed.floor}"
    else:
        up, how = UNIT_SHARE, "the listing names no unit: the whole address is listed"
    expl.append({"op": "unit", "query": ", ".join(sorted(query.units)) or query.floor,
                 "list": ", ".join(sorted(listed.units)) or listed.floor, "points": up, "how": how})
    return round(bp + up, 6), same_building and other_unit, expl
