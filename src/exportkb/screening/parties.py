"""The parties to screen, read from a CSV (header ``id,name,address,country``), JSONL, or case files.

Why three inputs: a compliance team screens a customer master (CSV exported from an ERP), a
stream of records (JSONL), or the parties of the cases it is about to determine. Every bad row
is reported with its file, line and column, and nothing is screened (exit code 2).
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .lists import ListError, decode_text, read_bytes

#: The columns a parties CSV must have (more are ignored)
REQUIRED_COLUMNS = ("id", "name")
CASE_SUFFIXES = {".yaml", ".yml", ".json"}


@dataclass(frozen=True)
class PartyQuery:
    """One party to screen: its id, name, address (one line) and country; aliases where a case gives them."""

    id: str
    name: str = ""
    address: str = ""
    country: str = ""
    aliases: tuple[str, ...] = ()
    source: str = ""  # "FILE:LINE" the party was read from


def read_parties(paths: Iterable[str | Path]) -> list[PartyQuery]:
    """Every party of every file, in order; all problems collected and raised together."""
    out: list[PartyQuery] = []
    errors: list[str] = []
    for p in map(Path, paths):
        try:
            suffix = p.suffix.lower()
            if suffix == ".csv":
                out.extend(_read_csv(p))
            elif suffix in {".jsonl", ".ndjson"}:
                out.extend(_read_jsonl(p))
            elif suffix in CASE_SUFFIXES:
                out.extend(_read_case(p))
            else:
                raise ListError(f"{p}: unknown kind of parties file {p.suffix or '(no suffix)'!r}"
                                " (fix: give a .csv with header id,name,address,country, a .jsonl, or case files .yaml/.json)")
        except ListError as exc:
            errors.append(str(exc))
    if errors:
        raise ListError("\n".join(errors))
    seen: dict[str, str] = {}
    for q in out:
        if q.id in seen:
            errors.append(f"{q.source}: party id {q.id!r} already used at {seen[q.id]} (fix: give each party its own id)")
        seen.setdefault(q.id, q.source)
    if errors:
        raise ListError("\n".join(errors))
    return out


def _text(value: Any, where: str, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise ListError(f"{where}: column {column!r} is {type(value).__name__}, not text (fix: give a string)")
    return str(value).strip()


def _read_csv(p: Path) -> list[PartyQuery]:
    text = decode_text(read_bytes(p, "parties CSV"), str(p))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ListError(f"{p}:1: header has no column {', '.join(repr(m) for m in missing)} (got {header[:6]!r})"
                        " (fix: the first line must be id,name,address,country)")
    cols = {h.strip().lower(): h for h in reader.fieldnames or []}
    out = []
    try:
        for row in reader:
            where = f"{p}:{reader.line_num}"
            if None in row:
                raise ListError(f"{where}: more cells than the {len(header)} columns of the header"
                                " (fix: quote a name or address that contains a comma)")
            get = {c: _text(row.get(cols[c]), where, c) if c in cols else "" for c in ("id", "name", "address", "country")}
            if not get["id"]:
                raise ListError(f"{where}: column 'id' is empty (fix: give every party an id)")
            if not get["name"] and not get["address"]:
                raise ListError(f"{where}: party {get['id']!r} has neither 'name' nor 'address' (fix: give at least one)")
            out.append(PartyQuery(get["id"], get["name"], get["address"], get["country"], (), where))
    except csv.Error as exc:
        raise ListError(f"{p}:{reader.line_num}: CSV syntax: {exc} (fix: check the quoting of that row)") from None
    return out


def _read_jsonl(p: Path) -> list[PartyQuery]:
    text = decode_text(read_bytes(p, "parties JSONL"), str(p))
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{p}:{n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ListError(f"{where}:{exc.colno}: JSON syntax: {exc.msg} (fix: one JSON object per line)") from None
        if not isinstance(obj, dict):
            raise ListError(f"{where}: a {type(obj).__name__}, not an object (fix: one object per line with id, name, address, country)")
        pid = _text(obj.get("id"), where, "id")
        if not pid:
            raise ListError(f"{where}: no 'id' (fix: give every party an id)")
        name, address = _text(obj.get("name"), where, "name"), _address(obj.get("address"), where)
        if not name and not address:
            raise ListError(f"{where}: party {pid!r} has neither 'name' nor 'address' (fix: give at least one)")
        aliases = obj.get("aliases") or []
        out.append(PartyQuery(pid, name, address, _text(obj.get("country"), where, "country"),
                              tuple(str(a) for a in aliases) if isinstance(aliases, list) else (), where))
    return out


def _address(value: Any, where: str) -> str:
    """An address given as one line, or as the case format's {street, city, postal_code, country}."""
    if isinstance(value, dict):
        return ", ".join(str(value[k]).strip() for k in ("street", "city", "postal_code", "country") if value.get(k))
    return _text(value, where, "address")


def _read_case(p: Path) -> list[PartyQuery]:
    """The parties of a case file (its ``parties:`` list, read as data: the case itself is not determined)."""
    from ..case.loader import read_document
    from ..errors import CaseError

    try:
        data, lines = read_document(p)
    except CaseError as exc:
        raise ListError(str(exc)) from None
    parties = data.get("parties") if isinstance(data, dict) else None
    if not isinstance(parties, list):
        raise ListError(f"{p}: parties: no list of parties (fix: a case file with `parties:`; see docs/case-format.md)")
    case_id = str(data.get("case") or p.stem)
    out = []
    for i, party in enumerate(parties):
        where = f"{p}:{lines.get(f'parties[{i}]', '') or ''}".rstrip(":")
        if not isinstance(party, dict) or not party.get("id"):
            raise ListError(f"{where}: parties[{i}] has no id (fix: give the party an id)")
        aliases = party.get("aliases") or []
        out.append(PartyQuery(f"{case_id}/{party['id']}", _text(party.get("name"), where, "name"),
                              _address(party.get("address"), where), _text(party.get("country"), where, "country"),
                              tuple(str(a) for a in aliases) if isinstance(aliases, list) else (), where))
    return out
