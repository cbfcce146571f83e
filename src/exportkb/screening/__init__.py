"""Restricted-party screening: reading the Consolidated Screening List (or the KB's Entity List facts), normalising names and addresses, blocking, and an aligned scorer whose explanation sums to its score.

Why a package of its own: screening answers "who is on the other end?" before any rule can
apply (15 CFR 744.11, Supp. No. 4 to part 744). It reads the user's list file, not the KB's
rules, and it hands the KB plain hits (:class:`ListMatch`, one-to-one with
``exportkb.case.parties.ListHit``) so a determination can cite the entry.

The matching libraries (rapidfuzz, fingerprints, pypinyin, iuliia, anyascii, numpy) are an
optional extra: ``pip install 'exportkb[screening]'``. Importing this package does not need them;
building a :class:`Screener` does, and says how to install them if they are missing.
"""
from __future__ import annotations

from .lists import Address, ListEntry, ScreeningList, load_list
from .parties import PartyQuery, read_parties
from .screen import DEFAULT_THRESHOLD, ListMatch, ScreenResult, Screener, screen_parties

__all__ = [
    "Address", "ListEntry", "ScreeningList", "load_list",
    "PartyQuery", "read_parties",
    "DEFAULT_THRESHOLD", "ListMatch", "ScreenResult", "Screener", "screen_parties",
]
