"""A determination's notes as a reader meets them: grouped by kind, worded, cited.

Why: a note is how the KB says what it could not decide, what it assumed, or which part of the law
it did not evaluate (``h200_condition_not_met("gpus",us_supply)``, ``lpp_740_2_gap``,
``supp3_red_flags_20_27_not_evaluated``). The JSON keeps the KB's terms (programs read them); people
get one line per kind — the kind in words, the items and values it concerns, the deriving rule's
one-line reading and its citation — so that seven notes of one kind are one sentence, and no note
is a bare id. The text table, Markdown and the web page all use :func:`note_groups`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol, Sequence

from .plain import law_name, plain

_TERM = re.compile(r"^([a-z]\w*)(?:\((.*)\))?$", re.S)


class _KB(Protocol):
    note_readings: dict[str, tuple[str, str]]


@dataclass
class NoteGroup:
    """The notes of one kind: ``name`` (the KB's id), its words, the argument lists, its reading and citation."""

    name: str
    words: str
    args: list[list[str]] = field(default_factory=list)
    reads: str = ""
    cite: str = ""

    def concerns(self) -> str:
        """The arguments of the notes, as ``gpus: us supply, us volume limit``: grouped by the first
        argument when every note has two or more (an item and what concerns it), else listed."""
        if not any(self.args):
            return ""
        if all(len(a) >= 2 for a in self.args):
            by_first: dict[str, list[str]] = {}
            for a in self.args:
                by_first.setdefault(_word(a[0]), []).append(", ".join(_word(x) for x in a[1:]))
            return "; ".join(f"{k}: {', '.join(v)}" for k, v in by_first.items())
        return "; ".join(", ".join(_word(x) for x in a) for a in self.args if a)

    def sentence(self) -> str:
        """``H200 condition not met (gpus: us supply, …) — <reading> [<citation>]``."""
        head = self.words[:1].upper() + self.words[1:]
        what = self.concerns()
        out = head + (f" ({what})" if what else "")
        if self.reads:
            out += f" — {plain(self.reads)}"
        return out


#: Tokens of note ids that are names or abbreviations of the law, written as the law writes them.
_UPPER = frozenset({"aia", "acm", "lpp", "aca", "nac", "tmp", "gov", "tsu", "ifr", "h200", "veu", "ear", "fdp",
                    "iec", "sta", "tgl", "chpl", "us", "gp10", "tpp", "dram", "kyc", "ic", "el"})
_TOKENS = {"supp3": "Supp. No. 3", "supp5b": "Supp. 5(b)", "cn": "China's", "rf28": "red flag 28"}


def kind_words(name: str) -> str:
    """A note id in words: ``no_pre_ifr_exception_in_enforced_regime`` -> ``no pre IFR exception in
    enforced regime``; ECCNs and the law's abbreviations as the law writes them."""
    named = law_name(name)
    if named != name:
        return named
    return " ".join(_TOKENS.get(t, t.upper() if t in _UPPER else t) for t in name.split("_"))


def _word(arg: str) -> str:
    """A note argument as text: a quoted case string unquoted, a KB constant in words."""
    arg = arg.strip()
    if len(arg) >= 2 and arg[0] == arg[-1] == '"':
        return arg[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if re.fullmatch(r"[a-z]\w*", arg):
        return kind_words(arg)
    m = _TERM.match(arg)
    if m and m.group(2) is not None:  # a compound KB term: its name in words, its arguments in turn
        return f"{kind_words(m.group(1))} ({', '.join(_word(a) for a in _split_args(m.group(2)))})"
    return arg


def _split_args(text: str) -> list[str]:
    """Top-level comma split of a clingo term's arguments (strings and nested terms kept whole)."""
    out, depth, cur, quoted, esc = [], 0, [], False, False
    for ch in text:
        if quoted:
            cur.append(ch)
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                quoted = False
            continue
        if ch == '"':
            quoted = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    if cur or out:
        out.append("".join(cur))
    return [a.strip() for a in out]


def note_groups(kb: _KB, notes: Sequence[str]) -> list[NoteGroup]:
    """The notes grouped by kind, in the order each kind first appears."""
    groups: dict[str, NoteGroup] = {}
    readings = kb.note_readings
    for note in notes:
        m = _TERM.match(str(note).strip())
        name, args = (m.group(1), _split_args(m.group(2)) if m.group(2) is not None else []) if m else (str(note), [])
        if name not in groups:
            reads, cite = readings.get(name, ("", ""))
            groups[name] = NoteGroup(name, kind_words(name), reads=reads, cite=cite)
        if args:
            groups[name].args.append(args)
    return list(groups.values())
