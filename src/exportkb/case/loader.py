"""Loading case files: YAML or JSON → validated :class:`~exportkb.case.model.Case`.

Why our own YAML walk: PyYAML's default resolver reads ``NO`` (Norway) as
``False`` and ``3.0e26`` as a float; a compliance tool must read the country
code and the exact number. We compose the YAML node tree, resolve scalars with
the YAML 1.2 core rules (only true/false are booleans), keep numbers exact
(int or Decimal) and remember the line of every field for error messages and
proof trees.
"""
from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import os
import re
import stat
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from pydantic import ValidationError

if TYPE_CHECKING:
    import yaml

from ..errors import CaseError, ExportKBError, FieldProblem
from .expect import check_expect_shape
from .exact import INT32_MAX, MAX_ITEMS, TPP_BOUND
from .eccn import eccn_problem, hts6, well_formed
from .model import CASE_KEY_RE, Case, Item, Party
from .vocabulary import Vocabulary

MAX_FILE_BYTES = 5 * 1024 * 1024
# Dates the solver accepts: YYYYMMDD must stay a plausible transaction date (the
# rule dates from 2025; a year such as 0025 or 2205 is a typo, not a scenario).
DATE_MIN, DATE_MAX = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
CASE_SUFFIXES = (".yaml", ".yml", ".json")

_INT_RE = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")


# --------------------------------------------------------------------------- reading
#: Bounds applied while reading, before any object is built. A case file nests four levels deep
#: (expect: item: key: [names]); the bounds are far above any real case and far below what makes
#: reading slow: a 348-byte YAML "billion laughs" expands to ~10^9 nodes through aliases.
MAX_DEPTH = 64
MAX_NODES = 200_000
MAX_JSON_DIGITS = 4300  # Python's own int-from-text limit (sys.get_int_max_str_digits())


def check_regular_file(path: Path, what: str, limit: int, fix: str) -> int:
    """Refuse, before opening it, anything but an existing regular file of at most *limit* bytes.

    Why: a path read from input (a proof's ``case_source``, a screening list) may name ``/dev/zero`` (reading never
    ends: MemoryError), a FIFO (opening blocks until a writer comes), a directory or a huge file.
    ``os.stat`` opens none of them. Returns the size. Raises ExportKBError (exit 2) naming *what*.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ExportKBError(f"{path}: {what}: no such file (fix: {fix})") from None
    except OSError as exc:
        raise ExportKBError(f"{path}: {what}: cannot be read ({exc.strerror}) (fix: {fix})") from None
    if not stat.S_ISREG(st.st_mode):
        sort = ("a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a file")
        raise ExportKBError(f"{path}: {what} is not a regular file ({sort}) (fix: {fix})")
    if st.st_size > limit:
        raise ExportKBError(f"{path}: {what} is {st.st_size:,} bytes; it may be at most {limit:,} (fix: {fix})")
    return st.st_size


def read_document(path: str | Path) -> tuple[Any, dict[str, int]]:
    """Read a YAML or JSON file into Python data plus a map field-path → line.

    Only regular files are opened (a FIFO would block forever, /dev/zero never ends), and at most
    ``MAX_FILE_BYTES + 1`` bytes are read whatever the size the file system reports."""
    path = Path(path)
    name = str(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise CaseError([FieldProblem(name, "", "no such file", "check the path")]) from None
    except OSError as exc:
        raise CaseError([FieldProblem(name, "", f"cannot read it: {exc.strerror or exc}",
                                      "check the path and its permissions")]) from None
    if stat.S_ISDIR(st.st_mode):
        raise CaseError([FieldProblem(name, "", "is a directory, not a case file",
                                      "name the .yaml/.json files, or use a glob such as DIR/*.yaml")])
    if not stat.S_ISREG(st.st_mode):
        raise CaseError([FieldProblem(name, "", "is not a regular file (a device, pipe or socket)",
                                      "save the case to a .yaml or .json file and name that")])
    if st.st_size > MAX_FILE_BYTES:
        raise CaseError([FieldProblem(name, "", f"file is {st.st_size:,} bytes; a case file may be at most {MAX_FILE_BYTES:,}",
                                      "split it, or use `exportkb batch` for transaction logs")])
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise CaseError([FieldProblem(name, "", f"cannot read it: {exc.strerror or exc}",
                                      "check the file's permissions")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise CaseError([FieldProblem(name, "", f"file is over {MAX_FILE_BYTES:,} bytes; a case file may be at most that",
                                      "split it, or use `exportkb batch` for transaction logs")])
    return read_bytes(raw, name, as_json=path.suffix.lower() == ".json")


def read_bytes(raw: bytes, name: str, as_json: bool = False) -> tuple[Any, dict[str, int]]:
    """The bytes of a case document (already read, at most ``MAX_FILE_BYTES``) into data plus lines.

    Why public: a case that does not come from a file (the HTTP server's request body, a pasted
    YAML text) must be decoded exactly as a file is — UTF-8 checked, empty refused, JSON depth
    bounded, YAML read by our own 1.2-core walk — with the same messages naming *name*."""
    if len(raw) > MAX_FILE_BYTES:
        raise CaseError([FieldProblem(name, "", f"the document is over {MAX_FILE_BYTES:,} bytes; a case may be at most that",
                                      "split it, or use `exportkb batch` for transaction logs")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise CaseError([FieldProblem(name, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                                      "save the file as UTF-8", line=line)]) from None
    if not text.strip():
        raise CaseError([FieldProblem(name, "", "the file is empty", "write a case; see docs/case-format.md")])
    if as_json:
        data = decode_json(text, name)
        if _deeper_than(data, MAX_DEPTH):
            raise CaseError([FieldProblem(name, "", f"nested more than {MAX_DEPTH} levels deep",
                                          "check the structure; see docs/case-format.md")])
        return data, {}
    return parse_yaml(text, name)


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether JSON data nests more than *limit* levels (iterative: the data may nest ~1000 deep)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return False


class _DuplicateKey(Exception):
    def __init__(self, key: str):
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: JSON objects as dicts, refusing a key given twice (``json`` keeps the last)."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return out


#: One decoder, built once: ``json.loads`` with keyword arguments builds a new decoder per call, which
#: cost a batch row more than the duplicate-key hook does.
_JSON = json.JSONDecoder(parse_float=Decimal, object_pairs_hook=_unique_keys)


class _TooLong:
    """Stand-in for a JSON number too long to convert; found by :func:`_too_long_paths` (error path only)."""

    def __init__(self, text: str):
        self.digits = len(text.lstrip("-"))


def _too_long_paths(data: Any, path: str) -> Iterable[tuple[str, int]]:
    if isinstance(data, _TooLong):
        yield path, data.digits
    elif isinstance(data, dict):
        for k, v in data.items():
            yield from _too_long_paths(v, f"{path}.{k}" if path else str(k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _too_long_paths(v, f"{path}[{i}]")


def decode_json(text: str, source: str, fix: str = "fix the JSON syntax") -> Any:
    """Strict JSON: exact numbers (Decimal), a key given twice refused, over-long numbers and deep
    nesting refused — each as a :class:`CaseError` naming *source* (the file, or ``file:line`` of a
    JSONL row) and, where known, the field. The one JSON reader of case files and batch rows."""
    try:
        return _JSON.decode(text)
    except json.JSONDecodeError as exc:
        line = exc.lineno if "\n" in text.rstrip("\n") else None
        raise CaseError([FieldProblem(source, "", f"invalid JSON: {exc.msg}", fix, line=line)]) from None
    except _DuplicateKey as exc:
        raise CaseError([FieldProblem(source, _key_text(exc.key), "key given twice", "keep one of them")]) from None
    except RecursionError:
        raise CaseError([FieldProblem(source, "", f"nested too deeply (a case file nests at most {MAX_DEPTH} levels)",
                                      "check the structure; see docs/case-format.md")]) from None
    except ValueError:  # an integer of more than 4,300 digits (Python's int-from-text limit)
        pass
    try:
        data = json.loads(text, parse_float=Decimal, object_pairs_hook=_unique_keys,
                          parse_int=lambda t: _TooLong(t) if len(t) > MAX_JSON_DIGITS else int(t))
        where = list(_too_long_paths(data, ""))
    except (ValueError, RecursionError, _DuplicateKey):  # pragma: no cover - the first decode said why
        where = []
    problems = [FieldProblem(source, p, f"a number of {n:,} digits; numbers may have at most {MAX_JSON_DIGITS:,}",
                             "check the value") for p, n in where]
    raise CaseError(problems or [FieldProblem(source, "", f"a number of more than {MAX_JSON_DIGITS:,} digits",
                                              "check the values")])


def _key_text(key: str) -> str:
    return key if len(key) <= 80 else key[:80] + "..."


@functools.cache
def _bounded_loader_class(fast: bool = True) -> type:
    """A loader whose composer refuses nesting deeper than MAX_DEPTH before building it (PyYAML
    composes recursively: 10^5 levels would end in a RecursionError). Built once, on first use, so
    that JSON-only runs never import PyYAML.

    Why two: with *fast* (and PyYAML built with libyaml) the events come from libyaml's C scanner
    and parser, which is where ~90 % of a case file's reading time went (4 ms of a 4.4 ms read of an
    example case in pure Python); the composing — and so the depth bound, the marks (lines) and the
    resolver — stays PyYAML's Python code, so the node tree is the one the pure-Python loader
    builds. A document the C parser refuses is read again by the pure-Python loader
    (:func:`parse_yaml`), so a user's error message and line are always PyYAML's own."""
    import yaml

    if fast and getattr(yaml, "__with_libyaml__", False):
        from yaml.cyaml import CParser

        class Base(yaml.composer.Composer, CParser, yaml.resolver.Resolver):  # type: ignore[misc]
            # Composer before CParser: its Python check_node/get_node/compose_* (and ours below)
            # win over CParser's C composer, and call CParser's C check_event/get_event/peek_event.
            def __init__(self, stream: str) -> None:
                CParser.__init__(self, stream)
                yaml.composer.Composer.__init__(self)
                yaml.resolver.Resolver.__init__(self)

            def get_event(self):  # type: ignore[override]
                # libyaml marks a plain scalar with style '' where PyYAML's parser says None (the
                # only difference in the events; the 1.2-core walk resolves plain scalars only)
                event = CParser.get_event(self)
                if event.__class__ is yaml.ScalarEvent and event.style == "":
                    event.style = None
                return event
    else:
        Base = yaml.SafeLoader

    class BoundedLoader(Base):  # type: ignore[misc, valid-type]
        depth = 0
        source = "<string>"
        #: the error class of the yaml module this loader was built from (a later ``import yaml`` may
        #: be another module object: pytest's in-process runs restore sys.modules)
        YAMLError = yaml.YAMLError

        def compose_node(self, parent, index):  # type: ignore[override]
            self.depth += 1
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise CaseError([FieldProblem(self.source, "", f"nested more than {MAX_DEPTH} levels deep",
                                              "check the indentation and brackets; see docs/case-format.md",
                                              line=mark.line + 1)])
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return BoundedLoader


def _yaml_loader(text: str, name: str, fast: bool = True):
    loader = _bounded_loader_class(fast)(text)
    loader.source = name
    return loader


#: Text on which libyaml and PyYAML's own scanner were seen to disagree (the fuzz test in
#: tests/test_loader_yaml_fast.py; libyaml is the more lenient, and at times reads another value):
#: tabs, ``?`` (explicit keys; ``??`` in a flow collection), ``!`` (tags), ``%`` (directives), the
#: Unicode line breaks NEL/LS/PS, a byte-order mark inside the text, and a block-scalar indicator
#: run into a comment (``|#``). Such text takes the pure-Python path, so it is read, or refused,
#: exactly as before; the rest (every shipped case) takes the C parser.
_LIBYAML_DIFFERS = re.compile("[\t?!%\x85\u2028\u2029\ufeff]|[|>][0-9+-]*#")


def _yaml_nodes(text: str, name: str, fast: bool = True) -> list:
    """The documents of *text* as PyYAML node trees (the C parser's events when *fast*).

    A YAML error from the C parser is not reported as it stands: the text is read again by the
    pure-Python loader, whose message and line the user gets (the two parsers word their errors
    differently, and the bad-case suite states PyYAML's)."""
    fast = fast and not _LIBYAML_DIFFERS.search(text)
    loader = _yaml_loader(text, name, fast)
    try:
        nodes = []
        while loader.check_node():
            nodes.append(loader.get_node())
        if fast and any(n.id == "scalar" for n in nodes):
            # a document that is one scalar is an error either way (a case is a mapping); libyaml
            # marks an empty one a line off, so the pure-Python loader reads it for the message
            return _yaml_nodes(text, name, fast=False)
        return nodes
    except loader.YAMLError as exc:
        if fast:  # (the finally below disposes of the C loader)
            return _yaml_nodes(text, name, fast=False)
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise CaseError([FieldProblem(name, "", f"invalid YAML: {problem}", "fix the YAML syntax", line=line)]) from None
    finally:
        loader.dispose()


def parse_yaml(text: str, name: str = "<string>", fast: bool = True) -> tuple[Any, dict[str, int]]:
    # PyYAML is imported by the loader class, not at the top: JSON/JSONL/CSV batches never pay for it
    nodes = _yaml_nodes(text, name, fast)
    if not nodes:
        raise CaseError([FieldProblem(name, "", "the file is empty (only comments or blank lines)",
                                      "write a case; see docs/case-format.md")])
    if len(nodes) != 1:
        raise CaseError([FieldProblem(name, "", f"holds {len(nodes)} YAML documents; a case file holds one",
                                      "put each case in its own file")])
    lines: dict[str, int] = {}
    data = _YamlWalk(name, lines).convert(nodes[0], "")
    return data, lines


class _YamlWalk:
    """Node tree → Python data, counting every node built: aliases make a small file expand to a
    huge tree (or a cycle), so the walk refuses a cycle and stops after MAX_NODES nodes."""

    def __init__(self, name: str, lines: dict[str, int]):
        self.name, self.lines, self.budget = name, lines, MAX_NODES
        self.open: set[int] = set()  # ids of the collection nodes being converted (a cycle returns to one)

    def convert(self, node, path: str, lines: dict[str, int] | None = None) -> Any:
        lines = self.lines if lines is None else lines
        self.budget -= 1
        if self.budget < 0:
            raise CaseError([FieldProblem(self.name, "", f"expands to more than {MAX_NODES:,} values (YAML aliases "
                                          "repeating aliases: an 'alias bomb')", "write the values out; do not nest aliases",
                                          line=node.start_mark.line + 1)])
        if node.id in ("mapping", "sequence"):
            key = id(node)
            if key in self.open:
                raise CaseError([FieldProblem(self.name, path, "a YAML alias refers to a value that contains it (a cycle)",
                                              "remove the recursive alias", line=node.start_mark.line + 1)])
            self.open.add(key)
            try:
                return _convert(node, path, lines, self.name, self)
            finally:
                self.open.discard(key)
        return _convert(node, path, lines, self.name, self)


def _convert(node: yaml.Node, path: str, lines: dict[str, int], name: str, walk: _YamlWalk) -> Any:
    # Node kinds by their ``id`` ("mapping", "sequence", "scalar"), not isinstance: under pytest's
    # in-process runs (pytester) the yaml module may be re-imported, and a node built by one import is
    # not an instance of the other's classes.
    lines[path] = node.start_mark.line + 1
    if node.id == "mapping":
        out: dict[str, Any] = {}
        for knode, vnode in node.value:
            key = walk.convert(knode, path, {})  # a key's line is not its mapping's line
            if not isinstance(key, str):
                key = str(key)
            sub = f"{path}.{key}" if path else key
            if key in out:
                raise CaseError([FieldProblem(name, sub, "key given twice", "keep one of them",
                                              line=knode.start_mark.line + 1)])
            out[key] = walk.convert(vnode, sub)
        return out
    if node.id == "sequence":
        return [walk.convert(v, f"{path}[{i}]") for i, v in enumerate(node.value)]
    value = node.value
    if node.style is not None:  # quoted: always a string
        return value
    if node.tag not in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                        "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp"):
        return value
    low = value.lower()
    if low in ("", "~", "null"):
        return None
    if low == "true":
        return True
    if low == "false":
        return False
    if _INT_RE.match(value):
        # Numeric-looking plain scalars stay text: the schema decides. An int field
        # parses "1500"; a string field keeps "0042" or an id such as "1"; underscores
        # (26_900_000) are YAML digit separators.
        return value.replace("_", "")
    # "4E091" is a float in YAML 1.2 but an ECCN here; "3.0e26" is a number for a
    # Decimal field. Passing the text lets pydantic read each per its field type.
    return value


# --------------------------------------------------------------------------- validating
_RESERVED_WHY = "ids of the form #<digits> are reserved (the solver's internal case keys)"
_FIXES = {
    "missing": "add this field",
    "extra_forbidden": "remove it or correct its spelling",
    "int_type": "give a whole number",
    "int_parsing": "give a whole number",
    "int_from_float": "give a whole number",
    "greater_than_equal": "give a number that is not negative",
    "less_than_equal": "give a smaller number",
    "bool_type": "write true or false",
    "bool_parsing": "write true or false",
    "date_from_datetime_parsing": "write the date as YYYY-MM-DD",
    "date_parsing": "write the date as YYYY-MM-DD",
    "date_type": "write the date as YYYY-MM-DD",
    "string_type": "write text (quote it if it looks like a number)",
    "too_short": "give at least one",
    "list_type": "give a list (YAML lines starting with '- ')",
    "model_type": "give a mapping of keys to values",
    "dict_type": "give a mapping of keys to values",
    "decimal_parsing": "give a number",
    "decimal_type": "give a number",
    "number_not_finite": "give a number",
    "number_out_of_range": "check the value (write it in plain digits, e.g. 15832 or 3.0e26)",
    "count_not_bool": "give a whole number (true/false is not a count)",
    "date_not_iso": "write the date as YYYY-MM-DD (a Unix timestamp is not accepted)",
}


def shown(value: Any) -> Any:
    """A value as an error message may quote it: huge numbers and long texts are described, not printed.

    Why: ``repr`` of a 5,000-digit integer raises (Python's int-to-text limit), and a message that
    echoes megabytes of input is no message."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return _Described(f"<a whole number of about {int(value.bit_length() * 0.30103) + 1:,} digits>")
    if isinstance(value, Decimal) and value.is_finite() and (len(value.as_tuple().digits) > 60
                                                              or abs(value.adjusted()) > 10**6):
        return _Described(f"<a number of {len(value.as_tuple().digits):,} digits, exponent {value.adjusted():,}>")
    if isinstance(value, str) and len(value) > 200:
        return _Described(repr(value[:80]) + f"... <{len(value):,} characters>")
    return value


class _Described(str):
    """A stand-in for a value too big to quote; its repr is the description itself."""

    def __repr__(self) -> str:
        return str(self)


def _loc_to_path(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _allowed_keys(model, loc: tuple) -> list[str]:
    """The keys accepted at a location, for 'did you mean' suggestions."""
    current = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = current.model_fields.get("from_" if part == "from" else part)
        if field is None:
            return []
        ann = field.annotation
        for cand in (Item, Party) + tuple(getattr(ann, "__args__", ()) or ()):
            if isinstance(cand, type) and hasattr(cand, "model_fields") and (
                    cand is ann or cand in getattr(ann, "__args__", ())):
                current = cand
                break
        else:
            if hasattr(ann, "model_fields"):
                current = ann
            else:
                return []
    return [f.alias or k for k, f in current.model_fields.items()]


def load_case(path: str | Path, kb: Vocabulary) -> Case:
    """Read and fully validate one case file; raise :class:`CaseError` naming every problem."""
    p = Path(path)
    data, lines = read_document(p)
    return case_from_data(data, kb, source=str(p), lines=lines)


def case_from_data(data: Any, kb: Vocabulary, source: str = "<data>", lines: dict[str, int] | None = None,
                   text_checked: bool = False) -> Case:
    """Validate already-parsed data (a dict from YAML/JSON/JSONL/CSV) into a Case.

    ``text_checked``: the caller knows that no key or string holds NUL or a lone surrogate
    (e.g. the data was decoded from JSON text without any ``\\u`` escape), so that scan is skipped.
    """
    try:
        return _case_from_data(data, kb, source, lines, text_checked)
    except RecursionError:  # data nested near the interpreter's limit (a JSONL row): refused, not a traceback
        raise CaseError([FieldProblem(source, "", f"nested too deeply (a case nests at most {MAX_DEPTH} levels)",
                                      "check the structure; see docs/case-format.md")]) from None


def _case_from_data(data: Any, kb: Vocabulary, source: str, lines: dict[str, int] | None,
                    text_checked: bool) -> Case:
    lines = lines or {}
    if not isinstance(data, dict):
        raise CaseError([FieldProblem(source, "", f"the document is a {type(data).__name__}, not a mapping",
                                      "write the case as keys and values (case:, date:, to:, items: ...)")])
    if not text_checked and _has_unusable_text(data):
        raise CaseError([FieldProblem(source, path, msg, fix, line=_line(lines, path), value=value, has_value=True)
                         for path, value, msg, fix in _unusable_text(data, "")])
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            path = _loc_to_path(loc)
            fix = _FIXES.get(err["type"], "see docs/case-format.md")
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                allowed = _allowed_keys(Case, loc)
                close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
                msg = "unknown key"
                fix = (f"did you mean '{close[0]}'? " if close else "") + "accepted keys: " + ", ".join(allowed)
            has_value = err["type"] != "missing"
            problems.append(FieldProblem(source, path, msg, fix, line=_line(lines, path),
                                         value=shown(err.get("input")), has_value=has_value and not isinstance(err.get("input"), (dict, list))))
        raise CaseError(problems) from None
    case._source = source
    case._lines = dict(lines)
    problems = check_against_kb(case, kb)
    if problems:
        raise CaseError(problems)
    return case


#: What clingo cannot carry in a string: NUL (ends a C string) and lone UTF-16 surrogates (not UTF-8).
_UNUSABLE = re.compile("[\x00\ud800-\udfff]")


def _has_unusable_text(data: Any) -> bool:
    """Quick yes/no over every key and string value: one compiled regex search per string.

    Why separate from :func:`_unusable_text`: almost no case has such text, and building
    field paths for every string of every case cost more than the rest of validation.
    """
    if isinstance(data, str):
        return _UNUSABLE.search(data) is not None
    if isinstance(data, dict):
        for k, v in data.items():
            if isinstance(k, str) and _UNUSABLE.search(k):
                return True
            cls = v.__class__
            if cls is str:  # the common leaves are checked here, without a call
                if _UNUSABLE.search(v):
                    return True
            elif cls is dict or cls is list or not isinstance(v, (int, float, Decimal, dt.date)) or isinstance(v, str):
                if _has_unusable_text(v):
                    return True
        return False
    if isinstance(data, list):
        for v in data:
            if _has_unusable_text(v):
                return True
    return False


def _unusable_text(data: Any, path: str) -> Iterable[tuple[str, Any, str, str]]:
    """Text clingo cannot carry faithfully: NUL ends a C string (so "a\\0b" and "a\\0c" would become
    the same id "a"), and lone surrogates (possible through JSON "\\ud800") are not UTF-8.

    Each problem with its field path; callers check :func:`_has_unusable_text` first (fast path)."""
    if isinstance(data, dict):
        for k, v in data.items():
            sub = f"{path}.{k}" if path else str(k)
            yield from _unusable_text(k, sub)
            yield from _unusable_text(v, sub)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _unusable_text(v, f"{path}[{i}]")
    elif isinstance(data, str):
        if _UNUSABLE.search(data) is None:
            return
        if "\x00" in data:
            yield path, data, "contains a NUL character", "remove the NUL (\\u0000) from the text"
        else:
            yield path, data, "contains a lone UTF-16 surrogate, which is not text", \
                "write the character itself, or a valid surrogate pair in JSON"


def line_of(case: Case, path: str) -> int | None:
    """The line of field *path* in the case's file (None for data without lines): for messages
    that other layers raise about a case's field."""
    return _line(case._lines, path)


def _line(lines: dict[str, int], path: str) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        parent = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", path)
        if parent == path:  # a top-level key not in the map (JSON input): stop, never loop
            break
        path = parent
    return lines.get("")


def check_against_kb(case: Case, kb: Vocabulary) -> list[FieldProblem]:
    """Check enumerated values against the KB's vocabulary and numbers against the solver's range."""
    src, lines = case.source or "<data>", case._lines
    problems: list[FieldProblem] = []

    def bad(path: str, value: Any, msg: str, fix: str) -> None:
        problems.append(FieldProblem(src, path, msg, fix, line=_line(lines, path), value=shown(value), has_value=True))

    countries = kb.countries

    def country(path: str, value: str | None) -> None:
        if value is None:
            return
        if value not in countries:
            up = value.upper() if isinstance(value, str) else value
            hint = f"did you mean '{up}'? " if up in countries else ""
            close = difflib.get_close_matches(str(value), list(countries), n=3)
            bad(path, value, "unknown country",
                hint + "use an ISO 3166-1 alpha-2 code such as US, DE, AE, CN, MO (Macau)"
                + (f"; close: {', '.join(close)}" if close and not hint else ""))

    def enum(path: str, value: str | None, vocab: str, what: str) -> None:
        if value is None:
            return
        allowed = kb.values(vocab)
        if value not in allowed:
            close = difflib.get_close_matches(str(value), allowed, n=1)
            bad(path, value, f"unknown {what}",
                (f"did you mean '{close[0]}'? " if close else "") + "accepted: " + ", ".join(allowed))

    if not DATE_MIN <= case.date <= DATE_MAX:
        bad("date", case.date.isoformat(), f"outside {DATE_MIN.isoformat()} .. {DATE_MAX.isoformat()}",
            "check the year (write the date as YYYY-MM-DD)")
    enum("transaction", case.transaction, "transaction_kind", "transaction kind")
    country("from", case.from_)
    country("to", case.to)
    country("ultimate_destination", case.ultimate_destination)
    # 15 CFR 772.1: Puerto Rico and the territories are part of the "United States", so a
    # shipment leaving one of them is an export, never a reexport (734.14: foreign to foreign).
    us_parts = set(kb.values("united_states_part"))
    if case.transaction in ("reexport", "deemed_reexport") and case.from_ in us_parts:
        bad("from", case.from_,
            f"{case.from_} is part of the United States (15 CFR 772.1), so a shipment from it is an export, not a {case.transaction}",
            "write transaction: " + ("export" if case.transaction == "reexport" else "deemed_export")
            + " (a reexport starts in a foreign country)")
    # 15 CFR 734.13-734.16: an export or reexport crosses a border; a transfer (in-country) does not.
    if case.transaction in ("transfer_in_country", "service") and case.from_ != case.to:
        bad("from", case.from_, f"a {case.transaction} happens within one country, but from is {case.from_} and to is {case.to}",
            "give the same country in from and to, or use transaction: export / reexport")
    if case.transaction in ("export", "reexport") and case.from_ == case.to:
        bad("to", case.to, f"an {case.transaction} leaves the country it starts in, but from and to are both {case.to}",
            "use transaction: transfer_in_country (a change of end user or end use within one country) or service (e.g. IaaS provided within one country)")
    enum("end_use", case.end_use, "end_use_value", "end use")
    enum("regime", case.regime, "regime_value", "regime")
    foreign = case.regime != "us_ear"

    seen: dict[str, int] = {}
    total_tpp = 0
    item_over_bound = False  # TPP bounds: exportkb.case.exact (the KB's exact arithmetic relies on them)
    if len(case.items) > MAX_ITEMS:
        bad("items", len(case.items), f"{len(case.items):,} item lines; a case may have at most {MAX_ITEMS:,}",
            "split the shipment into several cases")
    for i, item in enumerate(case.items):
        base = f"items[{i}]"
        if item.id in seen:
            bad(f"{base}.id", item.id, f"duplicate item id (also items[{seen[item.id]}])", "give each item its own id")
        seen.setdefault(item.id, i)
        if CASE_KEY_RE.match(item.id):
            bad(f"{base}.id", item.id, _RESERVED_WHY, "rename it, e.g. 'line-1' or 'item1'")
        enum(f"{base}.kind", item.kind, "item_kind_value", "item kind")
        if item.eccn is not None:
            # any well-formed ECCN is accepted (coverage "not_covered" when the KB has no rules for it);
            # only a string that is not an ECCN is refused, with a hint only where it is a re-spelling
            why = eccn_problem(item.eccn, kb.eccns)
            if why is not None:
                bad(f"{base}.eccn", item.eccn, *why)
        if item.for_eccn is not None:
            # the CCL's "for" notation names the item software or technology is for (3D901 for 3A901.b);
            # any well-formed ECCN is accepted, as for eccn
            why = eccn_problem(item.for_eccn, kb.eccns)
            if why is not None or item.for_eccn == "EAR99":
                bad(f"{base}.for_eccn", item.for_eccn, *(why or ("EAR99 is not a CCL entry software or technology can be 'for'",
                                                                 "give the ECCN of the item, e.g. 3A901.b, or remove for_eccn")))
            elif item.eccn is None or (well_formed(item.eccn) and (item.eccn == "EAR99" or item.eccn[1] not in "DE")):
                bad(f"{base}.for_eccn", item.for_eccn, "for_eccn qualifies software (D) or technology (E) ECCNs only",
                    "give the item's software or technology ECCN in eccn (e.g. 3D901), or remove for_eccn")
        if item.hts is not None and hts6(item.hts) is None:
            bad(f"{base}.hts", item.hts, "not an HTS code",
                "give the Harmonized Tariff Schedule code, at least 6 digits (e.g. 8542.31 or 854231, or 8542.31.0000)")
        if foreign:
            # a foreign regime reads its own fields only: the technology and its parameters
            if item.technology is None:
                bad(base, item.id, f"an item of a {case.regime} case names its technology",
                    "give technology: one of " + ", ".join(t for t in kb.values("cn_technology")))
            else:
                enum(f"{base}.technology", item.technology, "cn_technology", "technology")
            for name, value in (item.technology_specs or {}).items():
                if name not in kb.values("cn_spec"):
                    bad(f"{base}.technology_specs.{name}", name, "unknown parameter",
                        "accepted: " + ", ".join(kb.values("cn_spec")))
                elif value * 1000 != (value * 1000).to_integral_value() or value * 1000 > INT32_MAX:
                    bad(f"{base}.technology_specs.{name}", str(value), "more than 3 decimals or too large",
                        "give the value in the parameter's unit with at most 3 decimals")
            continue
        if item.technology is not None or item.technology_specs is not None:
            bad(f"{base}.technology", item.technology, "technology is a field of a foreign-regime case",
                "add regime: cn_mofcom to ask China's catalogue, or remove technology (the EAR reads eccn/specs)")
        if item.eccn is None and item.kind is None and item.tpp is None and item.training_operations is None:
            bad(base, item.id, "the item has no ECCN and no specs to classify it",
                "give eccn, or kind with tpp/performance_density, or training_operations for model weights")
        if item.tpp is not None:
            if item.tpp != item.tpp.to_integral_value():
                bad(f"{base}.tpp", str(item.tpp), "TPP must be a whole number",
                    "round down to a whole number (every TPP threshold is a whole number, so rounding down never changes a >= test)")
            elif item.tpp > INT32_MAX:
                bad(f"{base}.tpp", str(item.tpp), f"larger than {INT32_MAX:,}, the largest per-unit TPP the solver handles",
                    "check the value; give the TPP of one unit (one IC or one computer) and the number of units in quantity")
            else:
                total = int(item.tpp) * item.quantity
                total_tpp += total
                if total > TPP_BOUND:
                    item_over_bound = True
                    bad(f"{base}.quantity", item.quantity,
                        f"quantity x tpp = {total:,} exceeds {TPP_BOUND:,} (10^15), the largest TPP total the knowledge base computes exactly",
                        "check the value, or split the shipment into several cases")
        if item.quantity > INT32_MAX:
            bad(f"{base}.quantity", item.quantity, "too large",
                f"give at most {INT32_MAX:,} units per item line (split a larger line into several items)")
        if item.performance_density is not None:
            scaled = item.performance_density * 10000
            if scaled != scaled.to_integral_value():
                bad(f"{base}.performance_density", str(item.performance_density), "more than 4 decimal places",
                    "give the density with at most 4 decimals (thresholds are 1.6, 3.2, 5.92)")
            elif scaled > INT32_MAX:
                bad(f"{base}.performance_density", str(item.performance_density), "implausibly large", "check the value")
        if item.training_operations is not None:
            try:
                mantissa_exponent(item.training_operations)
            except ValueError as exc:
                bad(f"{base}.training_operations", str(item.training_operations), str(exc),
                    "give at most 9 significant digits, e.g. 3.0e26")

    pseen: dict[str, int] = {}
    for i, party in enumerate(case.parties):
        base = f"parties[{i}]"
        if party.id in pseen:
            bad(f"{base}.id", party.id, f"duplicate party id (also parties[{pseen[party.id]}])", "give each party its own id")
        pseen.setdefault(party.id, i)
        if CASE_KEY_RE.match(party.id):
            bad(f"{base}.id", party.id, _RESERVED_WHY, "rename it, e.g. 'consignee-1'")
        enum(f"{base}.role", party.role, "party_role_value", "party role")
        enum(f"{base}.veu", party.veu, "veu_value", "VEU status")
        country(f"{base}.country", party.country)
        country(f"{base}.headquarters", party.headquarters)
        country(f"{base}.ultimate_parent_headquarters", party.ultimate_parent_headquarters)
        if party.employed_since is not None and not DATE_MIN <= party.employed_since <= DATE_MAX:
            bad(f"{base}.employed_since", party.employed_since.isoformat(),
                f"outside {DATE_MIN.isoformat()} .. {DATE_MAX.isoformat()}", "check the year (write the date as YYYY-MM-DD)")
    party_ids = [p.id for p in case.parties]
    for i, party in enumerate(case.parties):
        if party.same_veu_as is not None and (party.same_veu_as not in party_ids or party.same_veu_as == party.id):
            bad(f"parties[{i}].same_veu_as", party.same_veu_as, "names no other party of this case",
                "give the id of the party (the same Data Center VEU) the items come from"
                + (": " + ", ".join(x for x in party_ids if x != party.id) if len(party_ids) > 1 else ", or remove same_veu_as"))

    for i, party in enumerate(case.parties):
        if party.employer is not None and (party.employer not in party_ids or party.employer == party.id):
            bad(f"parties[{i}].employer", party.employer, "names no other party of this case",
                "give the id of the party that employs this individual (add it to parties, e.g. with role: exporter)")
        _check_party_identity(f"parties[{i}]", party, party_ids, bad, country, enum)
    if case.transaction in ("deemed_export", "deemed_reexport"):
        # 15 CFR 734.13(b), 734.14(b): a deemed export releases technology or source code, so only an
        # item of product group D (software) or E (technology) — 4E091 weights, the September 2024
        # rule's 3D901/3E901/4D906/4E906 ... — can be released; the KB's commodities (3A090, 4A090, .z,
        # 4A906 ...) cannot, and 742.6(a)(6)(iv) excludes deemed releases from the 3A090/4A090 requirements.
        for i, item in enumerate(case.items):
            released = (item.eccn is not None and len(item.eccn) > 1 and item.eccn[1] in "DE") or (
                item.eccn is None and item.kind == "model_weights")
            if not released:
                bad(f"items[{i}].eccn" if item.eccn is not None else f"items[{i}].kind", item.eccn or item.kind,
                    f"a {case.transaction} is a release of technology or source code (15 CFR 734.13(b)); "
                    "this item is not software or technology (ECCN product group D or E, or model weights), and "
                    "15 CFR 742.6(a)(6)(iv) excludes deemed exports and reexports from the 3A090/4A090 licence requirements",
                    "use transaction: export (a shipment of the commodity), or list only software/technology items "
                    "(e.g. 4E091 model weights, 3E901 technology)")
    if case.screening is not None:
        from .parties import HIT_KINDS, MATCHED_ON

        for i, hit in enumerate(case.screening):
            base = f"screening[{i}]"
            if hit.party_id not in party_ids:
                bad(f"{base}.party_id", hit.party_id, "names no party of this case",
                    "give the id of a party: " + (", ".join(party_ids) or "(the case has no parties)"))
            if hit.matched_on not in MATCHED_ON:
                bad(f"{base}.matched_on", hit.matched_on, "unknown value", "use one of: " + ", ".join(MATCHED_ON))
            if hit.kind not in HIT_KINDS:
                bad(f"{base}.kind", hit.kind, "unknown hit kind", "use one of: " + ", ".join(HIT_KINDS))
    country("knowledge.iaas_training_4e091_for_hq", case.knowledge.iaas_training_4e091_for_hq)
    country("knowledge.ai_training_for_hq", case.knowledge.ai_training_for_hq)
    for i, item in enumerate(case.items):
        country(f"items[{i}].designer_headquarters", item.designer_headquarters)
    if case.reform:
        from .reform_names import reform_name_problem

        for i, name in enumerate(case.reform):
            why = reform_name_problem(name)
            if why is not None:
                bad(f"reform[{i}]", name, *why)
            elif name in case.reform[:i]:
                bad(f"reform[{i}]", name, f"given twice (also reform[{case.reform.index(name)}])", "name each reform once")
    if case.expect is not None:
        problems.extend(check_expect_shape(case.expect, [it.id for it in case.items], src,
                                           lambda path: _line(lines, path), kb))
    if total_tpp > TPP_BOUND and not item_over_bound:
        bad("items", f"{total_tpp:,} TPP",
            f"the item lines add up to {total_tpp:,} TPP, beyond {TPP_BOUND:,} (10^15), the largest TPP total the knowledge base computes exactly",
            "check the quantities, or split the shipment into several cases")
    for key, value in case.usage_this_year.model_dump().items():
        if total_tpp > TPP_BOUND:
            break  # the shipment itself is beyond the bound and is reported above; one message is enough
        if value > TPP_BOUND or value + total_tpp > TPP_BOUND:
            bad(f"usage_this_year.{key}", value,
                f"with this shipment ({total_tpp:,} TPP) exceeds {TPP_BOUND:,} (10^15), the largest TPP total the knowledge base computes exactly",
                "check the value, or split the case")
    return problems


def _check_party_identity(base: str, party: Any, party_ids: list[str], bad: Any, country: Any, enum: Any) -> None:
    """What a schema cannot say about a party's address, owners and stated Entity List status.

    Why here: shares are summed against the Affiliates rule's 50 % (in hundredths, exactly), so a
    share must be 0-100 with at most 2 decimals and the shares of one party cannot exceed 100 %;
    an owner names another party of the case or a name, never both, never the party itself."""
    if party.address is not None:
        country(f"{base}.address.country", party.address.country)
    total = Decimal(0)
    for j, owner in enumerate(party.owned_by):
        ob = f"{base}.owned_by[{j}]"
        if (owner.party is None) == (owner.name is None):
            bad(ob, owner.party or owner.name or "", "an owner needs exactly one of party or name",
                "give party: ID (another party of this case) or name: TEXT (an owner outside the case)")
        if owner.party is not None and (owner.party not in party_ids or owner.party == party.id):
            bad(f"{ob}.party", owner.party, "names no other party of this case",
                "give the id of another party" + (": " + ", ".join(x for x in party_ids if x != party.id)
                                                  if len(party_ids) > 1 else ", or use name: for an owner outside the case"))
        pct = owner.percent
        if pct < 0 or pct > 100:
            bad(f"{ob}.percent", str(pct), "a share must be between 0 and 100", "give the percentage owned, e.g. 50 or 33.33")
        elif pct * 100 != (pct * 100).to_integral_value():
            bad(f"{ob}.percent", str(pct), "more than 2 decimal places", "give the share with at most 2 decimals, e.g. 33.33")
        else:
            total += pct
    if total > 100:
        bad(f"{base}.owned_by", f"{total}%", f"the shares add up to {total}%, more than 100%",
            "check the percentages: together the owners hold at most 100% of the party")
    status = party.entity_list
    if status is not None:
        eb = f"{base}.entity_list"
        enum(f"{eb}.scope", status.scope, "el_scope_value", "Entity List scope")
        enum(f"{eb}.review_policy", status.review_policy, "review_policy_value", "licence review policy")
        if not status.listed and (status.entry or status.scope or status.review_policy or status.footnotes):
            bad(eb, "listed: false", "entry, scope, review_policy and footnotes describe a listing, but listed is false",
                "remove them, or write listed: true")
        for k, n in enumerate(status.footnotes):
            if n not in (1, 2, 3, 4, 5):
                bad(f"{eb}.footnotes[{k}]", n, "not an Entity List footnote number", "use 1 to 5 (1, 4 and 5 extend the FDP rules)")


def mantissa_exponent(value: Decimal) -> tuple[int, int]:
    """Exact (M, E) with value = M x 10^E and 10^8 <= M < 10^9 (or (0, 0)).

    Clingo integers are 32-bit; 10^26 is not. A 9-digit mantissa and an
    exponent compare exactly against the 4E091 threshold.
    """
    if value < 0:
        raise ValueError("must not be negative")
    if value == 0:
        return 0, 0
    sign, digits, exp = value.normalize().as_tuple()
    digits_str = "".join(map(str, digits)).rstrip("0") or "0"
    trailing = len("".join(map(str, digits))) - len(digits_str)
    exp += trailing
    if len(digits_str) > 9:
        raise ValueError(f"has {len(digits_str)} significant digits; the solver compares at most 9 exactly")
    pad = 9 - len(digits_str)
    return int(digits_str) * 10**pad, exp - pad


def iter_case_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories into their case files (sorted), keep files as given."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.suffix.lower() in CASE_SUFFIXES and f.is_file()))
        else:
            out.append(p)
    return out


# --------------------------------------------------------------------------- expect.as_of
def as_of(case: Case) -> dt.date | None:
    """The date of ``expect.as_of`` (validated by the loader), if the case sets one."""
    value = (case.expect or {}).get("as_of")
    if value is None:
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def redated(case: Case) -> Case:
    """The case re-dated to ``expect.as_of`` when given (the same case otherwise)."""
    d = as_of(case)
    return case.model_copy(update={"date": d}) if d is not None and d != case.date else case


# --------------------------------------------------------------------------- log lines (JSONL / CSV)
#: Batch logs are opened with ``errors="surrogateescape"``: a byte that is not UTF-8 becomes a lone
#: surrogate U+DC80..U+DCFF (never produced by decoding valid UTF-8), found here per line.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def undecodable_byte(text: str) -> int | None:
    """The 1-based byte offset of the first non-UTF-8 byte of a line read with surrogateescape, or None."""
    m = _ESCAPED_BYTE.search(text)
    if m is None:
        return None
    return len(text[:m.start()].encode("utf-8", "surrogateescape")) + 1


def check_utf8_line(text: str, source: str) -> None:
    """Refuse a log line holding bytes that are not UTF-8 (``source`` is ``file:line``). Decoding
    them leniently would turn them into U+FFFD and silently change ids."""
    at = undecodable_byte(text)
    if at is not None:
        raise CaseError([FieldProblem(source, "", f"not UTF-8 text (byte {at} of the line is not UTF-8)",
                                      "save the file as UTF-8")])


def decode_json_row(raw: str, source: str) -> Any:
    """One JSONL row: strict UTF-8 (see :func:`check_utf8_line`) and strict JSON (:func:`decode_json`)."""
    if not raw.isascii() and _ESCAPED_BYTE.search(raw) is not None:
        check_utf8_line(raw, source)
    return decode_json(raw, source, fix="one JSON object per line")
