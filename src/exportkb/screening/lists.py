"""Reading a screening list as the user has it: the Consolidated Screening List (CSV or JSON, as
trade.gov publishes it) or the KB's own Entity List facts (``kb/parties/entity_list.lp``).

Why read by column name: ITA's importer writes the CSV with ``csv.DictWriter`` and the column
order has changed over time; edx tests its reader against reordered, added and removed columns
(shared/reference/screening.md §A4). Why split notes out of names: the CSL ``name`` cell
sometimes carries "(f.k.a. ...)", "(a.k.a. ...)", a trailing acronym or "and any successor,
sub-unit, or subsidiary thereof"; indexed as one name they would never match either name.

The list's version is the SHA-256 of the file's bytes: the same file gives byte-identical results.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..case.loader import check_regular_file
from ..errors import ExportKBError

#: A list file larger than this is refused (the full CSL is ~25 MB as CSV)
MAX_LIST_BYTES = 512 * 1024 * 1024

#: Source string of rows read from the KB's own Entity List facts
KB_SOURCE = "Entity List (EL) - Bureau of Industry and Security"


class ListError(ExportKBError):
    """A screening list (or a parties file) that cannot be read: names the file, line and column."""


@dataclass(frozen=True)
class Address:
    """One address of a list entry, the CSL's address, city, state, postal_code and country."""

    street: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""

    def text(self) -> str:
        """The address as one line, parts joined with ", " as the CSL's ``make_flat_address`` does."""
        return ", ".join(p for p in (self.street, self.city, self.state, self.postal_code, self.country) if p)


@dataclass(frozen=True)
class ListEntry:
    """One entry of a screening list, with the fields a match reports (issue 15 item 3)."""

    entry_id: str
    source: str
    name: str
    aliases: tuple[str, ...] = ()
    addresses: tuple[Address, ...] = ()
    address_only: bool = False
    federal_register_notice: str = ""
    license_requirement: str = ""
    license_policy: str = ""
    type: str = ""
    country: str = ""
    #: notes split out of the name cell ("Affiliated Entity: ...", "successor ... thereof"), kept for the reader
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScreeningList:
    """A parsed list file: its entries in file order and the SHA-256 of its bytes (the list version)."""

    path: str
    sha256: str
    format: str  # "csl-csv" | "csl-json" | "kb-facts"
    entries: tuple[ListEntry, ...] = field(default=())


# --------------------------------------------------------------------------- name notes
_ALIAS_NOTE = re.compile(
    r"\(\s*(?:f\.?\s?k\.?\s?a|a\.?\s?k\.?\s?a|d\.?\s?b\.?\s?a|formerly(?:\s+known\s+as)?|also\s+known\s+as|"
    r"previously\s+known\s+as)\s*\.?\s*[,:]?\s*(?P<alias>[^()]*(?:\([^()]*\)[^()]*)*)\)",
    re.IGNORECASE)
_ALIAS_TAIL = re.compile(r"[,;]?\s+(?:f\.k\.a\.|a\.k\.a\.|formerly known as|also known as)\s*,?\s*(?P<alias>.+)$",
                         re.IGNORECASE)
_SUCCESSOR = re.compile(r",?\s*(?:and|including)\s+any\s+successors?,?\s+sub-units?,?\s+or\s+subsidiar(?:y|ies)\s+thereof\.?",
                        re.IGNORECASE)
_AFFILIATED = re.compile(r"\.?\s*Affiliated\s+Entit(?:y|ies)\s*:\s*(?P<note>.*)$", re.IGNORECASE | re.DOTALL)
_ACRONYM_TAIL = re.compile(r"\s*\((?P<acr>[A-Z0-9][A-Z0-9&.\-]{2,}|[A-Z][A-Za-z0-9&\-]{2,})\)\s*\.?\s*$")
_MISENCODED_S = re.compile(r"\?s\b")


def split_name_notes(cell: str) -> tuple[str, list[str], list[str]]:
    """The name of a CSL ``name`` cell, the aliases written inside it, and the notes removed.

    "Huawei Technologies Co., Ltd. (Huawei). Affiliated Entity: Shenzhen Huawei ..." gives the name
    "Huawei Technologies Co., Ltd.", the alias "Huawei" and the note "Affiliated Entity: ...";
    "X (f.k.a., Y; Z)" gives X and aliases Y, Z. BIS's mis-encoded apostrophes ("?s ") become "'s"
    as OpenSanctions' crawler does.
    """
    s = _MISENCODED_S.sub("'s", cell).replace("?", " ")
    aliases: list[str] = []
    notes: list[str] = []
    m = _AFFILIATED.search(s)
    if m:
        notes.append("Affiliated Entity: " + m.group("note").strip())
        s = s[: m.start()]
    m = _SUCCESSOR.search(s)
    while m:
        notes.append(m.group(0).strip(" ,."))
        s = s[: m.start()] + s[m.end():]
        m = _SUCCESSOR.search(s)
    for m in list(_ALIAS_NOTE.finditer(s)):
        aliases.extend(_split_alias_list(m.group("alias")))
    s = _ALIAS_NOTE.sub(" ", s)
    m = _ALIAS_TAIL.search(s)
    if m:
        aliases.extend(_split_alias_list(m.group("alias")))
        s = s[: m.start()]
    m = _ACRONYM_TAIL.search(s)
    if m and len(s[: m.start()].split()) >= 2:
        aliases.append(m.group("acr").rstrip("."))
        s = s[: m.start()]
    name = re.sub(r"\s+", " ", s).strip(" ,;")
    return name, [a for a in aliases if a], notes


def _split_alias_list(text: str) -> list[str]:
    """Aliases written as one note: "Y; Z", "Y; and Z" (the importer's "; and" is a separator too)."""
    parts = re.split(r";\s*(?:and\s+)?|,\s+and\s+", text)
    parts = [re.sub(r"^and\s+", "", re.sub(r"\s+", " ", p).strip(" ,.;")) for p in parts]
    return [p for p in parts if p]


# --------------------------------------------------------------------------- address-only rows
_UNIT_WORD = re.compile(r"\b(?:room|rm|unit|flat|office|suite|ste|floor|fl|apt|apartment|shop|block|blk)\b|\d+\s*/\s*f\b|\b\d+f\b",
                        re.IGNORECASE)
_STREET_WORD = re.compile(r"\b(?:road|rd|street|st|avenue|ave|lane|ln|boulevard|blvd|jalan|cadde(?:si)?|cad|sokak|sok|"
                          r"sokagi|mahallesi|mah|plaza|tower|building|bldg|centre|center|house|nagar|marg|ulitsa|ul|prospekt)\b",
                          re.IGNORECASE)


def looks_like_address(name: str) -> bool:
    """Does this ``name`` read as an address (an address-only Entity List entry, 744.16(f))?

    How such entries appear in the CSL columns is UNVERIFIED (§A4); the reader treats an Entity List
    row whose name has a number and a unit or street word ("Unit D, 16/F One Capital Place, 18
    Luard Rd") as an Address entity, and also accepts a row whose ``type`` says "Address".
    """
    return bool(re.search(r"\d", name)) and bool(_UNIT_WORD.search(name) or _STREET_WORD.search(name)) and \
        (bool(_UNIT_WORD.search(name)) or len(_STREET_WORD.findall(name)) >= 1 and "," in name)


def _is_entity_list(source: str) -> bool:
    s = source.lower()
    return "entity list" in s or s.strip() in {"el", "entity_list"}


# --------------------------------------------------------------------------- reading
def read_bytes(path: Path, what: str, fix: str | None = None) -> bytes:
    """The bytes of a regular file of at most MAX_LIST_BYTES (the case layer's check: no FIFO, device or
    directory is opened), read bounded whatever the size reported; errors name the file and the fix."""
    fix = fix or f"give the path of the {what}"
    try:
        check_regular_file(path, what, MAX_LIST_BYTES, fix)
        with path.open("rb") as fh:
            raw = fh.read(MAX_LIST_BYTES + 1)
    except ExportKBError as exc:
        raise ListError(str(exc)) from None
    except OSError as exc:
        raise ListError(f"{path}: cannot read it: {exc.strerror or exc} (fix: check the path and its permissions)") from None
    if len(raw) > MAX_LIST_BYTES:
        raise ListError(f"{path}: over {MAX_LIST_BYTES:,} bytes; a {what} may be at most that (fix: split it)")
    return raw


def decode_text(raw: bytes, name: str) -> str:
    """UTF-8 text (a BOM is allowed, as Excel writes one), or an error naming the line of the bad byte."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ListError(f"{name}:{line}: not UTF-8 text ({exc.reason} at byte {exc.start}) (fix: save the file as UTF-8)") from None
    if not text.strip():
        raise ListError(f"{name}: the file is empty (fix: give the downloaded list file)")
    return text


def load_list(path: str | Path) -> ScreeningList:
    """Read a screening list: the CSL as CSV/TSV or JSON (by the file's suffix, else its first
    character), or the KB's Entity List facts (``.lp``)."""
    p = Path(path)
    raw = read_bytes(p, "the screening list",
                     "give the Consolidated Screening List as downloaded (CSV or JSON), or an Entity List .lp file")
    sha = hashlib.sha256(raw).hexdigest()
    text = decode_text(raw, str(p))
    suffix = p.suffix.lower()
    if suffix == ".lp":
        entries, fmt = read_kb_facts(text, str(p)), "kb-facts"
    elif suffix == ".json" or (suffix not in {".csv", ".tsv"} and text.lstrip()[:1] in "{["):
        entries, fmt = read_csl_json(text, str(p)), "csl-json"
    else:
        entries, fmt = read_csl_csv(text, str(p), delimiter="\t" if suffix == ".tsv" else ","), "csl-csv"
    if not entries:
        raise ListError(f"{p}: no entries with a name (fix: give the downloaded list file, not an empty export)")
    return ScreeningList(str(p), sha, fmt, tuple(entries))


def _multi(cell: str) -> list[str]:
    """A multi-valued CSV cell: values joined with "; " by the importer (a leading "and " is the
    remnant of BIS's "; and")."""
    vals = [re.sub(r"^and\s+", "", v.strip()) for v in cell.split(";")] if cell else []
    return [v for v in vals if v]


def _csv_address(text: str) -> Address:
    """One address of the CSV's ``addresses`` cell: address, city, state, postal_code, country joined with ", ".

    The importer drops empty parts, so the split is by position from the right only for the ISO country."""
    parts = [p.strip() for p in text.split(",")]
    country = parts[-1] if parts and re.fullmatch(r"[A-Z]{2}", parts[-1]) else ""
    rest = parts[:-1] if country else parts
    return Address(street=", ".join(rest), country=country)


def _entry(source: str, entry_id: str, name_cell: str, alt_names: Iterable[str], addresses: list[Address],
           fr: str, req: str, policy: str, typ: str, country: str) -> ListEntry | None:
    name, aliases, notes = split_name_notes(name_cell)
    more: list[str] = []
    for a in alt_names:
        n2, a2, _ = split_name_notes(re.sub(r"^\s*and\s+", "", a))
        more.extend([n2, *a2])
    if not name and not more:
        return None
    seen: set[str] = {name.casefold()}
    all_aliases = []
    for a in [*aliases, *more]:
        if a and a.casefold() not in seen:
            seen.add(a.casefold())
            all_aliases.append(a)
    address_only = typ.strip().lower() == "address" or (_is_entity_list(source) and looks_like_address(name))
    if address_only and not addresses:
        addresses = [_csv_address(name)]
    return ListEntry(entry_id=entry_id, source=source, name=name, aliases=tuple(all_aliases),
                     addresses=tuple(addresses), address_only=address_only, federal_register_notice=fr,
                     license_requirement=req, license_policy=policy, type=typ,
                     country=country or next((a.country for a in addresses if a.country), ""), notes=tuple(notes))


def read_csl_csv(text: str, name: str, delimiter: str = ",") -> list[ListEntry]:
    """The CSL CSV (29 columns in §A4's header), read by column name; only ``name`` is required."""
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = reader.fieldnames or []
    cols = {h.strip().lower(): h for h in header if h}
    if "name" not in cols:
        raise ListError(f"{name}:1: no column 'name' in the header {header[:6]!r}{'...' if len(header) > 6 else ''}"
                        " (fix: give the Consolidated Screening List CSV as downloaded, whose header has _id,source,...,name,...)")

    def get(row: dict[str, Any], col: str) -> str:
        key = cols.get(col)
        v = row.get(key) if key else None
        return v.strip() if isinstance(v, str) else ""

    out: list[ListEntry] = []
    try:
        for row in reader:
            if None in row:  # more cells than header columns
                raise ListError(f"{name}:{reader.line_num}: {len(header) + len(row[None])} cells for {len(header)} columns"
                                " (fix: quote cells that contain the delimiter)")
            source = get(row, "source")
            entry_id = get(row, "_id") or get(row, "id") or get(row, "entity_number")
            if not entry_id:
                entry_id = "row-" + hashlib.sha224((get(row, "name").lower() + get(row, "federal_register_notice").lower())
                                                   .encode()).hexdigest()[:16]
            addresses = [_csv_address(a) for a in _multi(get(row, "addresses"))]
            e = _entry(source, entry_id, get(row, "name"), _multi(get(row, "alt_names")), addresses,
                       get(row, "federal_register_notice"), get(row, "license_requirement"),
                       get(row, "license_policy"), get(row, "type"), get(row, "country"))
            if e is not None:
                out.append(e)
    except csv.Error as exc:
        raise ListError(f"{name}:{reader.line_num}: CSV syntax: {exc} (fix: check the quoting of that row)") from None
    return out


def read_csl_json(text: str, name: str) -> list[ListEntry]:
    """The CSL JSON (``{"results": [...]}``, or the bare list): lists as arrays, addresses as objects."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ListError(f"{name}:{exc.lineno}:{exc.colno}: JSON syntax: {exc.msg} (fix: give the downloaded consolidated.json)") from None
    rows = data.get("results") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise ListError(f"{name}: no 'results' list at the top (fix: give the Consolidated Screening List JSON, "
                        '{"results": [...]})')
    out: list[ListEntry] = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ListError(f"{name}: results[{i}] is {type(row).__name__}, not an object (fix: one object per entry)")

        def s(key: str) -> str:
            v = row.get(key)
            if isinstance(v, list):
                return "; ".join(str(x) for x in v if x is not None)
            return str(v).strip() if v is not None else ""

        addrs = []
        raw_addrs = row.get("addresses") or []
        if not isinstance(raw_addrs, list):
            raise ListError(f"{name}: results[{i}].addresses is not a list (fix: a list of address objects)")
        for a in raw_addrs:
            if isinstance(a, dict):
                addrs.append(Address(*(str(a.get(k) or "").strip() for k in ("address", "city", "state", "postal_code", "country"))))
            elif isinstance(a, str):
                addrs.append(_csv_address(a))
        alt = row.get("alt_names") or []
        alt_list = [str(a) for a in alt] if isinstance(alt, list) else _multi(str(alt))
        entry_id = s("id") or s("_id") or s("entity_number") or f"results[{i}]"
        e = _entry(s("source"), entry_id, s("name"), alt_list, addrs, s("federal_register_notice"),
                   s("license_requirement"), s("license_policy"), s("type"), s("country"))
        if e is not None:
            out.append(e)
    return out


# --------------------------------------------------------------------------- the KB's own format
def read_kb_facts(text: str, name: str) -> list[ListEntry]:
    """Entries from the ``entity_list_*`` facts of the contract (kb/parties/entity_list.lp):
    ``entity_list_entry(Entry, Name, Country, FRCite, EffectiveYYYYMMDD)``, ``entity_list_alias/2``,
    ``entity_list_address/5``, ``entity_list_address_only/1``, ``entity_list_scope/2``,
    ``entity_list_policy/2``. The file is grounded by clingo alone (its rules need the rest of the
    KB and derive nothing here); only these facts are read."""
    import clingo

    messages: list[str] = []
    ctl = clingo.Control(["--warn=none"], logger=lambda _code, msg: messages.append(msg))
    try:
        ctl.add("base", [], text)
        ctl.ground([("base", [])])
    except RuntimeError:
        raise ListError(f"{name}: not a clingo program: {' '.join(m.strip() for m in messages)[:300]}"
                        " (fix: give kb/parties/entity_list.lp or a file of entity_list_* facts)") from None

    def txt(sym: Any) -> str:
        return sym.string if sym.type == clingo.SymbolType.String else str(sym)

    def atoms(pred: str, arity: int) -> list[tuple[str, ...]]:
        return sorted(tuple(txt(a) for a in sa.symbol.arguments)
                      for sa in ctl.symbolic_atoms.by_signature(pred, arity))

    aliases: dict[str, list[str]] = {}
    for e, a in atoms("entity_list_alias", 2):
        aliases.setdefault(e, []).append(a)
    addresses: dict[str, list[Address]] = {}
    for e, street, city, postal, country in atoms("entity_list_address", 5):
        addresses.setdefault(e, []).append(Address(street=street, city=city, postal_code=postal, country=country))
    address_only = {a[0] for a in atoms("entity_list_address_only", 1)}
    scope = {e: s for e, s in atoms("entity_list_scope", 2)}
    policy = {e: p for e, p in atoms("entity_list_policy", 2)}
    out = []
    for e, ename, country, fr, _effective in atoms("entity_list_entry", 5):
        out.append(ListEntry(entry_id=e, source=KB_SOURCE, name=ename, aliases=tuple(aliases.get(e, ())),
                             addresses=tuple(addresses.get(e, ())), address_only=e in address_only,
                             federal_register_notice=fr, license_requirement=scope.get(e, ""),
                             license_policy=policy.get(e, ""), country=country))
    return out
