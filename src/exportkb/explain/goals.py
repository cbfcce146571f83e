"""Reading a goal as people write it: ``license_required(gpus)``, ``exception_available(gpus, lpp)``,
``red_flag(rf28)``, or the friendly ``LPP`` / ``license_required`` with ``--item gpus``.

Goals are written without the case id. Item and party ids are strings in the
facts (user text never becomes program text), so a bare ``gpus`` that names an
item or a party of the case is read as the string "gpus"; other bare words stay
constants. Exception names (``LPP``) come from the KB's ``exception/3`` catalogue.
"""
from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING

import clingo

from ..errors import ExportKBError
from ..kb import KnowledgeBase
from ..case.model import Case

if TYPE_CHECKING:
    from ..solve.laws import ReadyCase

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class ExplainError(ExportKBError):
    """A goal that cannot be explained as asked (exit code 2, no traceback)."""


def parse_goal(text: str, case: Case, kb: KnowledgeBase, item: str | None = None) -> clingo.Symbol:
    """The goal atom without the case id (strings for item/party ids)."""
    text = text.strip()
    if not text:
        raise ExplainError("empty goal (fix: write an atom such as license_required(gpus), or LPP with --item)")
    if _NAME.match(text):
        return _friendly(text, case, kb, item)
    try:
        sym = clingo.parse_term(text)
    except RuntimeError:
        raise ExplainError(f"goal {text!r} is not an atom clingo can read "
                           "(fix: write e.g. exception_available(gpus, lpp); quote ids such as \"3A090.a\")") from None
    if sym.type != clingo.SymbolType.Function or not sym.name:
        raise ExplainError(f"goal {text!r} is not an atom (fix: write name(arguments), e.g. license_required(gpus))")
    args = list(sym.arguments)
    if args and args[0].type == clingo.SymbolType.String and args[0].string == case.case:
        args = args[1:]
    ids = {it.id for it in case.items} | {p.id for p in case.parties}
    return clingo.Function(sym.name, [_as_id(a, ids) for a in args])


def _as_id(a: clingo.Symbol, ids: set[str]) -> clingo.Symbol:
    if a.type == clingo.SymbolType.Function and not a.arguments and a.name in ids:
        return clingo.String(a.name)
    return a


def _friendly(word: str, case: Case, kb: KnowledgeBase, item: str | None) -> clingo.Symbol:
    low = word.lower()
    exceptions = {x: name for x, (name, _) in kb.exception_names.items()}
    by_name: dict[str, str] = {}
    for x, name in sorted(exceptions.items()):  # the first id of a shared name (aia before aia_weights)
        by_name.setdefault(name.lower(), x)
    item_sym = [clingo.String(item)] if item else []
    if low in exceptions or low in by_name:
        if not item:
            raise ExplainError(f"goal {word!r} is a license exception: name the item with --item "
                               f"(items: {', '.join(it.id for it in case.items)})")
        return clingo.Function("exception_available", [clingo.String(item), clingo.Function(low if low in exceptions else by_name[low])])
    red_flags = {str(t[0]) for t in kb.facts("red_flag_def")}
    if low in red_flags:
        return clingo.Function("red_flag", [clingo.Function(low)])
    return clingo.Function(low, item_sym)


def with_key(goal: clingo.Symbol, key: str) -> clingo.Symbol:
    return clingo.Function(goal.name, [clingo.String(key), *goal.arguments])


def variants(goal: clingo.Symbol) -> list[clingo.Symbol]:
    """Readings of *goal* that swap a bare word and a string (and case), for matching a model."""
    options = []
    for a in goal.arguments:
        alts = [a]
        if a.type == clingo.SymbolType.Function and not a.arguments:
            alts.append(clingo.String(a.name))
        elif a.type == clingo.SymbolType.String and _NAME.match(a.string):
            alts.append(clingo.Function(a.string.lower()) if a.string[0].isupper() else clingo.Function(a.string))
        options.append(alts)
    return [clingo.Function(goal.name, list(c)) for c in itertools.product(*options)]


def check_goal_ids(r: "ReadyCase", item: str | None, goal: str | None) -> None:
    """Refuse an ``--item`` that is no item of the case, and an item or party id inside a goal atom
    that the case does not have, listing the known ids.

    Why: an explanation of ``license_required(gpus)`` on a case whose item is ``h100`` would
    confidently explain the absence of a thing that does not exist. Which argument of a goal is an
    item or a party comes from the KB's own sentence templates (argument ``I`` / ``P``)."""
    from ..errors import ExportKBError

    case, kb = r.case, r.kb
    items, parties = [it.id for it in case.items], [p.id for p in case.parties]

    def refuse(what: str, value: str, known: list[str], where: str) -> None:
        raise ExportKBError(f"{case.source}: {where}: {value!r} is not {what} of case {case.case!r} "
                            f"(fix: use one of: {', '.join(known) or '(none)'})")

    if item is not None and item not in items:
        refuse("an item", item, items, "--item")
    if not goal or "(" not in goal:
        return
    try:
        sym = clingo.parse_term(goal.strip())
    except RuntimeError:
        return  # the explainer reports an unreadable goal with its own message
    if sym.type != clingo.SymbolType.Function:
        return
    args = list(sym.arguments)
    if args and args[0].type == clingo.SymbolType.String and args[0].string == case.case:
        args = args[1:]
    template = kb.templates.get(f"{sym.name}/{len(args) + 1}")
    if template is None:
        return
    for var, a in zip(template.args[1:], args):
        text = a.string if a.type == clingo.SymbolType.String else (
            a.name if a.type == clingo.SymbolType.Function and not a.arguments else None)
        if text is None:
            continue
        if var == "I" and text not in items:
            refuse("an item", text, items, f"goal {goal.strip()}")
        if var == "P" and text not in parties:
            refuse("a party", text, parties, f"goal {goal.strip()}")
