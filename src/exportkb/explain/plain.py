"""Sentences of a proof as a lawyer reads them: dates as dates, numbers in their units, KB ids by name.

Why at rendering time, not in the proof: a proof's ``statement`` and ``value`` are checked word
for word by :mod:`exportkb.explain.verify` against the KB's templates, so the JSON proof keeps the
KB's own text; every renderer for people (text, Markdown, HTML, the web page) passes each sentence
through :func:`plain` before escaping it. Only KB-made text is rewritten: integers that are dates
(YYYYMMDD, the KB's ``19000101`` / ``99991231`` placeholders), comparisons of two numbers, densities
in ten-thousandths, and the KB's constants (never a case string: case text reaches clingo as strings).
"""
from __future__ import annotations

import datetime as dt
import re

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
OPEN_START, OPEN_END = 19000101, 99991231

_OPS_NUMBER = {">=": "is at least", ">": "is more than", "<=": "is at most", "<": "is less than",
               "=": "equals", "==": "equals", "!=": "is not"}
_OPS_DATE = {">=": "is on or after", ">": "is after", "<=": "is on or before", "<": "is before",
             "=": "is", "==": "is", "!=": "is not"}
_NEG = {"is at least": "is less than", "is more than": "is not more than", "is at most": "is more than",
        "is less than": "is not less than", "equals": "does not equal", "is not": "is",
        "is on or after": "is before", "is after": "is not after", "is on or before": "is after",
        "is before": "is not before", "is": "is not"}

_B = r"(?<![\w.\-])"   # a token boundary: not inside an id, a decimal or a hyphenated name
_E = r"(?![\w\-]|\.\d)"
_ISO = re.compile(_B + r"(\d{4})-(\d{2})-(\d{2})" + _E)
_YMD = re.compile(_B + r"((?:19|20|99)\d{6})" + _E)
_PERIOD = re.compile(r"from (1900-01-01|19000101) until (\(open-ended\)|99991231|9999-12-31)")
_FROM_OPEN = re.compile(r"from (\S+?) until (?:\(open-ended\)|99991231|9999-12-31)")
_UNTIL = re.compile(r"from (?:1900-01-01|19000101) until (\S+?)(?=[.,;)]?(?:\s|$))")
_OPERAND = r"-?[\w\"\-]+|\([\d\s+\-*/()]+\)"
_CMP = re.compile(r"^\s*(" + _OPERAND + r")\s*(>=|<=|!=|==|=|<|>)\s*(" + _OPERAND + r")\s+(holds|fails)\s*$")
_E4 = re.compile(_B + r"(\d+) ten-thousandths")
#: A bare number of five or more digits — but not a page of a citation: "85 FR 83416" and "91 FR 1684"
#: are written without separators in the Federal Register's and eCFR's citation style.
_BIG = re.compile(r"(?<!FR )" + _B + r"(\d{5,})" + _E)
_ECCNISH = re.compile(r"(?<![A-Za-z0-9])([0-9])([a-e])(\d{3})(?![A-Za-z0-9])")
_RF = re.compile(r"^rf(\d+)$")


def date_words(d: dt.date) -> str:
    """``13 January 2025``: the date as a citation would write it."""
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def ymd(n: int) -> dt.date | None:
    """An integer YYYYMMDD as a date, or None (not a valid date, or a placeholder)."""
    if n in (OPEN_START, OPEN_END):
        return None
    try:
        return dt.date(n // 10000, n // 100 % 100, n % 100)
    except ValueError:
        return None


def _iso_sub(m: re.Match[str]) -> str:
    try:
        return date_words(dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    except ValueError:
        return m.group(0)


def _ymd_sub(m: re.Match[str]) -> str:
    n = int(m.group(1))
    if n == OPEN_END:
        return "no end date"
    if n == OPEN_START:
        return "no start date"
    d = ymd(n)
    return date_words(d) if d else m.group(1)


def number(n: int) -> str:
    """An integer with thousands separators (``31,664,000``)."""
    return f"{n:,}"


#: Units of the KB's figures, by a word of the figure's name (kb/allocations.lp, kb/veu/*.lp): the
#: allocations and caps are in TPP, the NVEU caps in H100-equivalents, notice periods in days.
_FIGURE_UNITS = {"tpp": "TPP", "h100eq": "H100-equivalents", "days": "days"}
_FIGURE_WORDS = {"lpp": "LPP", "uveu": "UVEU", "nveu": "NVEU", "veu": "VEU", "nac": "NAC", "us": "U.S.",
                 "supp5a": "Supp. No. 5(a)"}


def figure_words(name: str, value: object) -> str:
    """A figure of a determination as a reader writes it: ``allocation remaining: 758,336,000 TPP``,
    ``VEU security deadline: 15 January 2026``, ``NAC notification: 25 days``.

    The unit comes from a word of the figure's name (its KB id carries it: ``_tpp``, ``_h100eq``,
    ``_days``; an allocation is always in TPP); a figure named a deadline or a date holds YYYYMMDD
    and is shown as a date. The JSON keeps the ids and the numbers; this is for reading."""
    tokens = name.split("_")
    unit = next((_FIGURE_UNITS[t] for t in tokens if t in _FIGURE_UNITS), None)
    if unit is None and tokens[0] == "allocation":
        unit = "TPP"
    words = " ".join(_FIGURE_WORDS.get(t, t) for t in tokens if t not in _FIGURE_UNITS) or name
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{words}: {value}"
    if tokens[-1] in ("deadline", "date"):
        d = ymd(value)
        return f"{words}: {date_words(d) if d else value}"
    return f"{words}: {number(value)}" + (f" {unit}" if unit else "")


def _value(token: str) -> tuple[str, bool]:
    """A comparison operand as shown, and whether it is a date."""
    if token.startswith("("):  # KB arithmetic, evaluated by clingo itself (its integer semantics)
        import clingo
        try:
            sym = clingo.parse_term(token)
        except RuntimeError:
            return token, False
        if sym.type != clingo.SymbolType.Number:
            return token, False
        expr = re.sub(r"\d+", lambda m: number(int(m.group(0))), token[1:-1]).replace("/", " ÷ ").replace("*", " × ")
        return f"{number(sym.number)} ({re.sub(' +', ' ', expr).strip()})", False
    if re.fullmatch(r"-?\d+", token):
        n = int(token)
        if n == OPEN_END:
            return "the open end (no end date)", True
        if n == OPEN_START:
            return "the open start (no start date)", True
        d = ymd(n) if 19000101 < n < 99991231 and len(token) == 8 else None
        if d:
            return date_words(d), True
        return number(n), False
    return law_name(token.strip('"')), False


def comparison(value: str) -> str | None:
    """``20250601 >= 20250515 holds`` -> ``1 June 2025 is on or after 15 May 2025``; None if not one."""
    m = _CMP.match(value)
    if not m:
        return None
    left, ldate = _value(m.group(1))
    right, rdate = _value(m.group(3))
    words = (_OPS_DATE if ldate or rdate else _OPS_NUMBER)[m.group(2)]
    if m.group(4) == "fails":
        words = _NEG[words]
    return f"{left} {words} {right}"


def law_name(const: str) -> str:
    """A KB constant as the law names it: ``rf28`` -> ``red flag 28``, ``lpp`` -> ``LPP``,
    ``weights_not_4e091`` -> ``weights not 4E091``."""
    m = _RF.match(const)
    if m:
        return f"red flag {m.group(1)}"
    m = re.fullmatch(r"rf(\d+)_(\w+)", const)
    if m:
        return f"red flag {m.group(1)} ({m.group(2).replace('_', ' ')})"
    if const in _EXCEPTIONS:
        return const.upper()
    if not _ECCNISH.search(const):
        return const  # an id the KB coined (a requirement, a parameter): kept as written, findable in kb/
    return _ECCNISH.sub(lambda m: f"{m.group(1)}{m.group(2).upper()}{m.group(3)}", const.replace("_", " "))


#: The license exceptions and authorizations whose constants are their three-letter names.
_EXCEPTIONS = frozenset({"aia", "acm", "lpp", "aca", "nac", "tmp", "gov", "tsu", "enc"})


def plain(sentence: str, constants: frozenset[str] = frozenset()) -> str:
    """One KB sentence (a node's statement or value) as a lawyer reads it.

    *constants* are the KB constants the proof's atoms hold (never case strings); each is
    shown through :func:`law_name` where it stands as a word of the sentence.
    """
    s = sentence
    cmp = comparison(s)
    if cmp is not None:
        return cmp
    s = _PERIOD.sub("at every date this knowledge base covers (no start or end date)", s)
    s = _UNTIL.sub(lambda m: f"until {m.group(1)}", s)
    s = _FROM_OPEN.sub(lambda m: f"from {m.group(1)} onward (no end date)", s)
    s = _E4.sub(lambda m: f"{int(m.group(1)) / 10000:g}", s)
    s = _ISO.sub(_iso_sub, s)
    s = _YMD.sub(_ymd_sub, s)
    s = _BIG.sub(lambda m: number(int(m.group(1))), s)
    for c in constants:
        if c in s and law_name(c) != c:
            s = re.sub(_B + re.escape(c) + _E, law_name(c), s)
    return s


_CONST = re.compile(r"(?<![\"\w])([a-z][a-z0-9_]*)(?![\w\"(])")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def atom_constants(atom_text: str) -> set[str]:
    """The constants of an atom's clingo text (strings removed: those are case data)."""
    body = _STRING.sub('""', atom_text)
    inner = body[body.find("(") + 1:] if "(" in body else ""
    return set(_CONST.findall(inner))
