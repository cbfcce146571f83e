"""Reading clingo's printed answer set back into atoms: ``name(args...)`` → (name, Python values).

The public-API path of the solver (when :mod:`exportkb.solve.fastclingo` is not
available) and the residual split both print the unique model and read it here; the
shared reading lives in its own module so that neither imports the other.
"""
from __future__ import annotations

import re

import clingo

from ..kb.knowledge import python_value

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|-?[0-9]+|[a-z_][A-Za-z0-9_\']*|[(),]|\S')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}
_ATOM = re.compile(r'(?:"(?:[^"\\]|\\.)*"|[^\s"])+')


def split_atoms(model_text: str) -> list[str]:
    """Split clingo's printed model (atoms separated by spaces) into atom texts; spaces inside strings stay."""
    return _ATOM.findall(model_text)


def parse_flat(text: str) -> tuple[str, list] | None:
    """Parse ``name(a1,...,an)`` whose arguments are strings, numbers or constants.

    Returns None for anything else (nested terms), so the caller falls back to the
    symbol API. Strings are unescaped as clingo escapes them (backslash, quote, newline).
    """
    toks = _TOKEN.findall(text)
    if not toks:
        return None
    name = toks[0]
    if len(toks) == 1:
        return name, []
    if toks[1] != "(" or toks[-1] != ")":
        return None
    args: list = []
    expect_value = True
    for tok in toks[2:-1]:
        if expect_value:
            if tok[0] == '"':
                args.append(re.sub(r'\\\\|\\"|\\n', lambda m: _UNESCAPE[m.group(0)], tok[1:-1]))
            elif tok[0] == "-" or tok[0].isdigit():
                args.append(int(tok))
            elif tok[0].isalpha() or tok[0] == "_":
                args.append(tok)
            else:
                return None
            expect_value = False
        else:
            if tok != ",":
                return None
            expect_value = True
    return name, args


def parse_nested(text: str) -> tuple[str, list]:
    """An atom with nested arguments, read by clingo (the slow path: rare)."""
    sym = clingo.parse_term(text)
    return sym.name, [python_value(a) for a in sym.arguments]


def parse_atom(text: str) -> tuple[str, list]:
    """Any printed atom: :func:`parse_flat` when it can, else clingo reads it (:func:`parse_nested`)."""
    return parse_flat(text) or parse_nested(text)
