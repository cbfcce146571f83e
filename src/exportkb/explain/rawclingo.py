"""Reading recorded firings from a model through clingo's C functions (no Symbol objects).

Why: a 1,000-case chunk records ~110,000 firings ``__f<K>(V1,..,Vn)``. ``str(model)``
prints each through clingo's Python wrapper (a Symbol object and two buffered C calls
per atom, ~15 µs); here the model's symbols stay integers, the rule index comes from
the predicate name (looked up once per name), and each distinct value is printed once
per chunk (a case key or an item id recurs in every firing of its case).

Uses the cffi handles of the ``clingo`` package (``clingo._internal``), which are not
public API: :data:`AVAILABLE` is False when they are missing, and callers read
``str(model)`` instead (same result; tests/test_fastproof.py compares both).
"""
from __future__ import annotations

from typing import Any

try:  # pragma: no branch
    from clingo._internal import _ffi as ffi  # type: ignore[attr-defined]
    from clingo._internal import _lib as lib  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - a clingo without the cffi module layout
    ffi = lib = None

_NEEDED = ("clingo_model_symbols_size", "clingo_model_symbols", "clingo_symbol_type", "clingo_symbol_name",
           "clingo_symbol_arguments", "clingo_symbol_to_string_size", "clingo_symbol_to_string",
           "clingo_show_type_shown", "clingo_backend_add_atom", "clingo_backend_rule")
AVAILABLE = lib is not None and all(hasattr(lib, n) for n in _NEEDED)


class FactAdder:
    """Adds facts (clingo Symbols built by exportkb.case.facts) to a backend with two C calls each."""

    def __init__(self, backend: Any):
        self.rep = backend._rep
        self.atom = ffi.new("clingo_atom_t[1]")
        self.sym = ffi.new("clingo_symbol_t*")

    def __call__(self, symbols: list) -> None:
        rep, atom, buf = self.rep, self.atom, self.sym
        add_atom, rule, null = lib.clingo_backend_add_atom, lib.clingo_backend_rule, ffi.NULL
        for sym in symbols:
            buf[0] = sym._rep
            if not add_atom(rep, buf, atom) or not rule(rep, False, atom, 1, null, 0):
                raise RuntimeError("clingo could not add a fact")


class _Printer:
    """Prints raw symbols as clingo does, memoised by symbol (valid while the control lives)."""

    def __init__(self) -> None:
        self.size = ffi.new("size_t*")
        self.buf = ffi.new("char[]", 256)
        self.cap = 256
        self.memo: dict[int, str] = {}

    def __call__(self, rep: int) -> str:
        got = self.memo.get(rep)
        if got is not None:
            return got
        if not lib.clingo_symbol_to_string_size(rep, self.size):
            raise RuntimeError("clingo could not print a symbol")
        n = self.size[0]
        if n > self.cap:
            self.buf, self.cap = ffi.new("char[]", n), n
        lib.clingo_symbol_to_string(rep, self.buf, n)
        text = self.memo[rep] = ffi.string(self.buf, n).decode()
        return text


def read_firings(model: Any, prefix: str) -> tuple[list[tuple[int, list[str]]], list[str]]:
    """The model's shown atoms: firings ``prefix<K>(values)`` as ``(K, [value texts])``; the rest as text."""
    size = ffi.new("size_t*")
    show = lib.clingo_show_type_shown
    if not lib.clingo_model_symbols_size(model._rep, show, size):
        raise RuntimeError("clingo could not read the model")
    n = size[0]
    arr = ffi.new("clingo_symbol_t[]", n)
    if not lib.clingo_model_symbols(model._rep, show, arr, n):
        raise RuntimeError("clingo could not read the model")
    p_name = ffi.new("char**")
    p_args = ffi.new("clingo_symbol_t**")
    printer = _Printer()
    memo = printer.memo
    kinds: dict[Any, int] = {}  # name pointer -> rule index, or -1 (not a firing)
    function = lib.clingo_symbol_type_function
    fired: list[tuple[int, list[str]]] = []
    others: list[str] = []
    plen = len(prefix)
    name_of, args_of, unpack = lib.clingo_symbol_name, lib.clingo_symbol_arguments, ffi.unpack
    for rep in unpack(arr, n):
        if lib.clingo_symbol_type(rep) != function:
            others.append(printer(rep))
            continue
        name_of(rep, p_name)
        cname = p_name[0]
        k = kinds.get(cname)
        if k is None:
            name = ffi.string(cname).decode()
            k = kinds[cname] = int(name[plen:]) if name.startswith(prefix) and name[plen:].isdigit() else -1
        if k < 0:
            others.append(printer(rep))
            continue
        args_of(rep, p_args, size)
        m = size[0]
        fired.append((k, [memo[a] if a in memo else printer(a) for a in unpack(p_args[0], m)] if m else []))
    return fired, others
