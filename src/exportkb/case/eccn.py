"""The syntax of an ECCN, apart from what the knowledge base covers.

Why a module of its own: a compliance team's export log holds every kind of ECCN (5A002.a, 5A992.c,
4A994 ...). An ECCN the KB has no rules for is *well-formed input the KB does not cover* — it is
determined with status ``not_covered`` and still reaches the rules that apply to every item subject
to the EAR (part 746, the Entity List). Only a string that is not an ECCN at all is an input error,
and the hint for it must be legally right: a re-spelling of the same designation (``4a994`` →
``4A994``, ``ear-99`` → ``EAR99``), never a *different* ECCN that merely looks similar (``4A994`` is
not "EAR99?": 4A994 is a CCL entry, EAR99 means "on no CCL entry").

The structure (15 CFR 738.2(d)): a digit (the CCL category, 0-9), a letter (the product group,
A-E), three digits; then the paragraphs of the entry (``.a``, ``.b.1``, ``.z.1.a``). The 0Y521
series (15 CFR 734.3(c), 742.6(a)(7)) uses the letter Y.
"""
from __future__ import annotations

import re
from typing import Iterable

EAR99 = "EAR99"
#: A well-formed ECCN: category digit, product group A-E (or Y for the 0Y521 series), three digits,
#: then paragraphs of one to three lower-case letters or digits.
ECCN_RE = re.compile(r"[0-9][A-EY][0-9]{3}(?:\.[a-z0-9]{1,3})*\Z")
_EAR99_SPELLINGS = re.compile(r"EAR[\s\-_.]*99\Z", re.IGNORECASE)

SYNTAX_FIX = ("an ECCN is a digit (CCL category 0-9), a letter A-E (product group), three digits and "
              "optional paragraphs, e.g. 5A002.a, 3A001.a.1, 4A994; an item on no CCL entry is EAR99")


def well_formed(value: str) -> bool:
    """True for EAR99 and for any string with the structure of an ECCN."""
    return value == EAR99 or ECCN_RE.match(value) is not None


def base(value: str) -> str:
    """The entry an ECCN belongs to (``3A090.a`` → ``3A090``)."""
    return value.split(".", 1)[0]


def prefixes(value: str) -> list[str]:
    """The entry and each enclosing paragraph of a well-formed ECCN, itself included
    (``4A906.a.1`` → ``4A906``, ``4A906.a``, ``4A906.a.1``); none for EAR99 or a malformed string.

    Why: a rule written for an entry (the 900-series entries of kb/requirements/advanced_technologies.lp)
    or for a paragraph ("3D901 (for 3A901.b)") must reach an item declared under any paragraph below
    it, and clingo has no string functions to cut an ECCN apart."""
    if value == EAR99 or not ECCN_RE.match(value):
        return []
    parts = value.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts) + 1)]


def category(value: str) -> int | None:
    """The CCL category (0-9) of a well-formed ECCN; None for EAR99."""
    if value == EAR99 or not ECCN_RE.match(value):
        return None
    return int(value[0])


def respelled(value: str) -> str | None:
    """The same designation written correctly, when *value* is a mis-spelling of one; else None.

    Only re-spellings: case, blanks, a hyphen or missing dot before one paragraph. Never a
    different entry (that would be a legal judgement, not a typo fix)."""
    text = value.strip()
    if _EAR99_SPELLINGS.match(text):
        return EAR99
    compact = re.sub(r"\s+", "", text)
    if len(compact) < 5:
        return None
    head, rest = compact[:5].upper(), compact[5:].replace("-", ".").replace("_", ".").lower()
    if rest and not rest.startswith("."):
        if len(rest) != 1 or not rest.isalpha():
            return None  # "5A002a1" (.a.1 or .a1?) or "4A9940" (a sixth digit): not a mere re-spelling
        rest = "." + rest  # "5A002a": the dot before one paragraph letter is missing
    candidate = head + rest
    return candidate if candidate != value and ECCN_RE.match(candidate) else None


def eccn_problem(value: str, covered: Iterable[str]) -> tuple[str, str] | None:
    """(problem, fix) when *value* cannot be used as an item's ECCN, else None.

    A well-formed ECCN the KB does not cover (*covered*: the ECCNs it has rules for) is NOT a
    problem: the case is determined with coverage ``not_covered``. Even ``3A090.c`` or a bare
    ``3A090`` is accepted that way — the CCL has paragraphs the KB does not encode (3A090.c, HBM,
    was added in December 2024), and guessing which one a log meant would be a legal judgement."""
    if value in set(covered) or well_formed(value):
        return None
    fixed = respelled(value)
    if fixed is not None:
        return "not a well-formed ECCN", f"did you mean {fixed}? ({SYNTAX_FIX})"
    return "not a well-formed ECCN", SYNTAX_FIX


_HTS_RE = re.compile(r"[0-9]{4}(?:\.?[0-9]{2})(?:\.?[0-9]{2}){0,2}\Z")


def hts6(value: str) -> str | None:
    """The HTS-6 subheading of a Harmonized Tariff Schedule code (``8542.31.0000`` → ``854231``), or
    None when *value* is not one. Why six digits: Supplements No. 2, 4, 5 and 6 to 15 CFR part 746
    list HTS-6 codes ("The source for the Harmonized Tariff Schedule (HTS)-6 codes ..."), so the
    export controls read the first six digits of a longer U.S. code."""
    text = value.strip()
    if not _HTS_RE.match(text):
        return None
    return text.replace(".", "")[:6]
