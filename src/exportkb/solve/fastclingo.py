"""Facts in, shown atoms out, through clingo's C functions directly — the batch's two hot loops.

Why: each call through clingo's Python wrappers allocates cffi buffers and a ``Symbol``
object; a 1,000-case chunk makes ~22,000 facts (three wrapped calls each) and reads
~15,000 shown atoms, which cost more CPU than grounding them (benchmarks/RESULTS.md).
Here the same C functions are called with buffers allocated once per chunk, symbols
stay plain integers, and the arguments of shown atoms are read structurally (no printing
and re-parsing). Case data still reaches clingo only as symbols built by clingo's API
(``clingo_symbol_create_string`` & co.), never as program text.

It uses the cffi handles of the ``clingo`` package (``clingo._internal``), which are not
public API: :data:`AVAILABLE` is False when they are missing or lack a function used here,
and the solver then takes the public-API path (same results; ``tests/test_batch_fast.py``
compares both).
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Iterable

try:  # pragma: no branch
    from clingo._internal import _ffi as ffi  # type: ignore[attr-defined]
    from clingo._internal import _lib as lib  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - a clingo without the cffi module layout
    ffi = lib = None

_NEEDED = ("clingo_symbol_create_string", "clingo_symbol_create_number", "clingo_symbol_create_function",
           "clingo_backend_add_atom", "clingo_backend_rule", "clingo_model_symbols_size", "clingo_model_symbols",
           "clingo_symbol_type", "clingo_symbol_name", "clingo_symbol_arguments", "clingo_symbol_number",
           "clingo_symbol_string", "clingo_symbol_to_string_size",
           "clingo_symbol_to_string", "clingo_show_type_shown", "clingo_error_message")
AVAILABLE = lib is not None and all(hasattr(lib, n) for n in _NEEDED)

if AVAILABLE:
    _NUMBER, _STRING, _FUNCTION = lib.clingo_symbol_type_number, lib.clingo_symbol_type_string, \
        lib.clingo_symbol_type_function


def fail(what: str) -> None:
    """Raise clingo's last error message for a failed C call (*what* names the step)."""
    msg = ffi.string(lib.clingo_error_message()).decode(errors="replace") if lib.clingo_error_message() else ""
    raise RuntimeError(f"clingo: {what} failed: {msg}")


class FactWriter:
    """Adds ground facts ``name(args...)`` to a backend; arguments are raw symbols (ints).

    The constructors memoise (a chunk repeats the same countries, constants and numbers).
    """

    def __init__(self, backend: Any):
        self._backend = backend._rep
        self._sym = ffi.new("clingo_symbol_t*")
        self._head = ffi.new("clingo_atom_t[1]")
        self._strings: dict[str, int] = {}
        self._numbers: dict[int, int] = {}
        self._constants: dict[str, int] = {}
        self._names: dict[str, bytes] = {}

    def string(self, text: str) -> int:
        rep = self._strings.get(text)
        if rep is None:
            if not lib.clingo_symbol_create_string(text.encode(), self._sym):
                fail("creating a string symbol")
            rep = self._strings[text] = self._sym[0]
        return rep

    def number(self, n: int) -> int:
        rep = self._numbers.get(n)
        if rep is None:
            lib.clingo_symbol_create_number(n, self._sym)
            rep = self._numbers[n] = self._sym[0]
        return rep

    def constant(self, name: str) -> int:
        rep = self._constants.get(name)
        if rep is None:
            if not lib.clingo_symbol_create_function(name.encode(), ffi.NULL, 0, True, self._sym):
                fail("creating a constant")
            rep = self._constants[name] = self._sym[0]
        return rep

    def adder(self, case: int) -> Callable[..., None]:
        """``add(name, *args)`` adding the fact ``name(case, args...)`` (symbol, program atom, rule ``atom.``).

        The per-fact hot path: one Python call, three C calls."""
        names, sym, head, backend = self._names, self._sym, self._head, self._backend
        create, add_atom, rule, NULL = lib.clingo_symbol_create_function, lib.clingo_backend_add_atom, \
            lib.clingo_backend_rule, ffi.NULL

        def add(name: str, *args: int) -> None:
            cname = names.get(name)
            if cname is None:
                cname = names[name] = name.encode()
            # cffi turns the list into a temporary C array (one C-level copy, no per-item calls)
            if not create(cname, [case, *args], len(args) + 1, True, sym):
                fail("creating a fact")
            if not add_atom(backend, sym, head):
                fail("adding an atom")
            if not rule(backend, False, head, 1, NULL, 0):
                fail("adding a fact")

        return add


class _Values(dict):
    """rep → Python value, computed on first sight (``__missing__``), so lookups stay in C."""

    def __init__(self, compute: Callable[[int], Any]):
        super().__init__()
        self._compute = compute

    def __missing__(self, rep: int) -> Any:
        v = self[rep] = self._compute(rep)
        return v


class AtomReader:
    """Reads the shown atoms of models as ``(name, [argument values])`` without printing them.

    Argument values are what :func:`exportkb.kb.python_value` gives: int for a number, str for a
    string or a constant, clingo's text for anything nested (``f(a)``, tuples). One reader per
    grounding: values are memoised by symbol, and symbols are only compared while the
    control that made them is alive.
    """

    def __init__(self) -> None:
        self._values = _Values(self._value)
        self._names: dict[Any, str] = {}
        self._p_size = ffi.new("size_t*")
        self._p_args = ffi.new("clingo_symbol_t**")
        self._p_name = ffi.new("char**")
        self._p_int = ffi.new("int*")
        self._text = ffi.new("char[]", 256)
        self._text_cap = 256

    def symbols(self, model: Any) -> list[int]:
        """The model's shown symbols (``Model.symbols(shown=True)``) as raw symbols."""
        show = lib.clingo_show_type_shown
        if not lib.clingo_model_symbols_size(model._rep, show, self._p_size):
            fail("reading the model size")
        n = self._p_size[0]
        arr = ffi.new("clingo_symbol_t[]", n)
        if not lib.clingo_model_symbols(model._rep, show, arr, n):
            fail("reading the model")
        return ffi.unpack(arr, n)

    def text(self, rep: int) -> str:
        """The symbol as clingo prints it (``str(Symbol)``)."""
        if not lib.clingo_symbol_to_string_size(rep, self._p_size):
            fail("printing a symbol")
        n = self._p_size[0]
        if n > self._text_cap:
            self._text, self._text_cap = ffi.new("char[]", n), n
        if not lib.clingo_symbol_to_string(rep, self._text, n):
            fail("printing a symbol")
        return ffi.string(self._text, n).decode()

    def value(self, rep: int) -> Any:
        return self._values[rep]

    def _value(self, rep: int) -> Any:
        t = lib.clingo_symbol_type(rep)
        if t == _NUMBER:
            lib.clingo_symbol_number(rep, self._p_int)
            return self._p_int[0]
        if t == _STRING:
            lib.clingo_symbol_string(rep, self._p_name)
            return ffi.string(self._p_name[0]).decode()
        if t == _FUNCTION:
            lib.clingo_symbol_arguments(rep, self._p_args, self._p_size)
            if self._p_size[0] == 0:  # a constant: its name (the sign is dropped, as Symbol.name does)
                lib.clingo_symbol_name(rep, self._p_name)
                return ffi.string(self._p_name[0]).decode()
        return self.text(rep)

    def rows(self, model: Any, index: dict[str, int], rows: list[list], texts: bool) -> None:
        """Append each shown atom ``name(key, args...)`` as ``(name, [key, args...], text or None)`` to
        ``rows[index[key]]``; atoms whose first argument is not a key of *index* are skipped.

        This loop runs once per shown atom of a batch: everything it calls is bound to a local.
        """
        lib_type, lib_name, lib_args, unpack = lib.clingo_symbol_type, lib.clingo_symbol_name, \
            lib.clingo_symbol_arguments, ffi.unpack
        p_name, p_args, p_size = self._p_name, self._p_args, self._p_size
        names, get_value, text = self._names, self._values.__getitem__, self.text
        for rep in self.symbols(model):
            if lib_type(rep) != _FUNCTION:
                continue  # a shown number or string has no case key
            lib_args(rep, p_args, p_size)
            n = p_size[0]
            if not n:
                continue
            args = list(map(get_value, unpack(p_args[0], n)))
            i = index.get(args[0]) if args[0].__class__ is str else None
            if i is None:
                continue
            lib_name(rep, p_name)
            cname = p_name[0]
            name = names.get(cname)
            if name is None:
                name = names[cname] = sys.intern(ffi.string(cname).decode())
            rows[i].append((name, args, text(rep) if texts else None))


def add_raw_facts(backend: Any, reps: Iterable[int]) -> None:
    """Add ground facts given as raw symbols (``Symbol._rep``) to a backend, through clingo's C functions.

    The residual split adds the static atoms a case may use this way (thousands per case
    would cost a wrapped call each through the public API).
    """
    ffi_, lib_ = ffi, lib
    b, head, sym = backend._rep, ffi_.new("clingo_atom_t[1]"), ffi_.new("clingo_symbol_t*")
    add_atom, rule, NULL = lib_.clingo_backend_add_atom, lib_.clingo_backend_rule, ffi_.NULL
    for rep in reps:
        sym[0] = rep
        if not add_atom(b, sym, head) or not rule(b, False, head, 1, NULL, 0):
            fail("adding a static fact")
