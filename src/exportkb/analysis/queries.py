"""Named analyst queries: queries/*.yaml, run by `exportkb query NAME`.

A query is a question an analyst asks again and again, written once::

    title: ...
    description: ...
    params:
      end_use: {default: ai_model_training, type: constant, description: ...}
    sweep:                      # EITHER a sweep over a base case ...
      case: {...case fields...}   (or case_file: path relative to the repository)
      axes: {to: ALL}
      where: {license_required: true}      # keep rows with these values
      columns: [to, outcome, exceptions_available]
    asp:                        # ... OR a small ASP query over the KB's facts
      program: |
        tier(X, 1) :- ...
      show: tier/2
      columns: [country, tier]

A parameter is used by writing ``$name`` as a whole value anywhere in the sweep
(the case, the axes, ``where``). In an ASP query, parameters reach the program
only as ``query_param(name, Value)`` facts built with clingo's symbol API —
never by pasting text into the program.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

import clingo
import clingo.ast

from ..errors import ExportKBError
from ..kb import KnowledgeBase, python_value
from ..case.loader import case_from_data, parse_yaml
from ..kb.reforms import check_spec, default_queries_path

PARAM_TYPES = ("string", "constant", "int", "date", "list")
_TOP_KEYS = {"title", "description", "params", "sweep", "asp", "reform"}


class QueryError(ExportKBError):
    """A query file is malformed, or a parameter value does not fit."""


@dataclass(frozen=True)
class QueryParam:
    name: str
    default: Any
    type: str = "string"
    description: str = ""

    def coerce(self, value: Any, where: str) -> Any:
        """Turn a command-line string (or a YAML value) into this parameter's type."""
        try:
            if self.type == "int":
                return int(str(value).replace("_", ""))
            if self.type == "date":
                return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
            if self.type == "list":
                items = value if isinstance(value, list) else [v.strip() for v in str(value).split(",") if v.strip()]
                return [int(v) if isinstance(v, str) and v.lstrip("-").isdigit() else v for v in items]
            return str(value)
        except ValueError:
            raise QueryError(f"{where}: parameter {self.name}={value!r} is not a valid {self.type} "
                             f"(fix: e.g. {self.default!r})") from None

    def symbol(self, value: Any) -> clingo.Symbol:
        if self.type == "int":
            return clingo.Number(value)
        if self.type == "date":
            return clingo.Number(value.year * 10000 + value.month * 100 + value.day)
        if self.type == "constant":
            if not str(value).isidentifier() or not str(value)[0].islower():
                raise QueryError(f"parameter {self.name}={value!r}: not a lower-case identifier (fix: e.g. {self.default})")
            return clingo.Function(str(value))
        return clingo.String(str(value))


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    description: str
    source: Path
    params: dict[str, QueryParam]
    sweep: dict[str, Any] | None = None
    asp: dict[str, Any] | None = None
    reforms: tuple[str, ...] = field(default=())

    @property
    def kind(self) -> str:
        return "sweep" if self.sweep is not None else "asp"

    def bind(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Parameter values: defaults overridden by *given*; unknown names are an error."""
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            raise QueryError(f"query {self.name}: unknown parameter(s) {', '.join(unknown)} "
                             f"(fix: one of {', '.join(self.params) or 'none'})")
        return {n: p.coerce(given.get(n, p.default), f"query {self.name}") for n, p in self.params.items()}


def list_queries(folder: Path | None = None) -> list[Query]:
    folder = folder or default_queries_path()
    return [load_query(p.stem, folder) for p in sorted(folder.glob("*.yaml"))] if folder.is_dir() else []


def load_query(name: str, folder: Path | None = None) -> Query:
    folder = folder or default_queries_path()
    path = Path(name) if name.endswith((".yaml", ".yml")) else folder / f"{name}.yaml"
    if not path.is_file():
        known = [p.stem for p in sorted(folder.glob("*.yaml"))] if folder.is_dir() else []
        raise QueryError(f"query {name!r}: no such query in {folder} (fix: one of {', '.join(known) or 'none'}; "
                         "`exportkb query --list`)")
    data, _ = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    where = str(path)
    check_spec(data, where, _TOP_KEYS, QueryError,
               shape="a query is a mapping with title, description, params and sweep or asp",
               title_fix="state the question the query answers")
    if ("sweep" in data) == ("asp" in data):
        raise QueryError(f"{where}: give exactly one of sweep: or asp:")
    params = {}
    for pname, spec in (data.get("params") or {}).items():
        if not isinstance(spec, dict) or "default" not in spec:
            raise QueryError(f"{where}: params.{pname}: give {{default: VALUE, type: ..., description: ...}}")
        ptype = spec.get("type", "string")
        if ptype not in PARAM_TYPES:
            raise QueryError(f"{where}: params.{pname}.type: {ptype!r} (fix: one of {', '.join(PARAM_TYPES)})")
        params[pname] = QueryParam(pname, spec["default"], ptype, str(spec.get("description", "")))
    if "asp" in data:
        asp = data["asp"]
        if not isinstance(asp, dict) or not {"program", "show", "columns"} <= set(asp):
            raise QueryError(f"{where}: asp: give program, show (name/arity) and columns")
        stray = [c for c in asp.get("dates") or [] if c not in asp["columns"]]
        if stray:
            raise QueryError(f"{where}: asp.dates: {', '.join(map(str, stray))} not among the columns "
                             f"(fix: name columns of {', '.join(map(str, asp['columns']))})")
    return Query(name=path.stem, title=str(data["title"]), description=str(data.get("description") or "").strip(),
                 source=path, params=params, sweep=data.get("sweep"), asp=data.get("asp"),
                 reforms=tuple(data.get("reform") or ()))


def _substitute(node: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(node, str) and node.startswith("$") and node[1:] in values:
        return values[node[1:]]
    if isinstance(node, dict):
        return {k: _substitute(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, values) for v in node]
    return node


def run_query(query: Query, kb: KnowledgeBase, given: Mapping[str, Any] | None = None,
              reforms: tuple[str, ...] = (), progress=None):
    """Run *query* with parameters *given*; a pandas DataFrame of the answer."""
    values = query.bind(given or {})
    if query.kind == "sweep":
        return _run_sweep(query, kb, values, reforms, progress)
    from ..kb.reforms import apply_reforms
    return _run_asp(query, apply_reforms(kb, tuple(query.reforms) + tuple(reforms)), values)


def _run_sweep(query: Query, kb: KnowledgeBase, values: dict[str, Any], reforms: tuple[str, ...], progress):
    from . import whatif
    spec = _substitute(query.sweep, values)
    where = f"{query.source}: sweep"
    if "case_file" in spec:
        root = default_queries_path().parent
        from ..case.loader import load_case
        case = load_case(root / str(spec["case_file"]), kb)
    elif isinstance(spec.get("case"), dict):
        case = case_from_data(spec["case"], kb, source=f"{where}.case")
    else:
        raise QueryError(f"{where}: give case: (a case mapping) or case_file: (a path)")
    axes = spec.get("axes") or {}
    if not isinstance(axes, dict) or not axes:
        raise QueryError(f"{where}.axes: give at least one axis, e.g. {{to: ALL}}")
    df = whatif.sweep(case, kb, axes=axes, reforms=tuple(query.reforms) + tuple(reforms), progress=progress,
                      move_parties=bool(spec.get("move_parties", True)))
    for col, want in (spec.get("where") or {}).items():
        if col not in df.columns:
            # the KB does not (yet) conclude this column: say so instead of guessing
            raise QueryError(f"{where}.where: column {col!r} is not in the result (columns: {', '.join(df.columns)})")
        df = df[df[col] == want]
    cols = [c for c in spec.get("columns") or [] if c in df.columns]
    # figures appear once the KB concludes them: keep any column the spec asks for by prefix
    for prefix in spec.get("column_prefixes") or []:
        cols += [c for c in df.columns if c.startswith(prefix) and c not in cols]
    return df[cols].reset_index(drop=True) if cols else df.reset_index(drop=True)


def _run_asp(query: Query, kb: KnowledgeBase, values: dict[str, Any]):
    from .whatif import require_pandas
    pd = require_pandas()
    asp = query.asp or {}
    name, _, arity = str(asp["show"]).partition("/")
    columns = list(asp["columns"])
    if not arity.isdigit() or int(arity) != len(columns):
        raise QueryError(f"{query.source}: asp.show {asp['show']!r} must be name/arity with one column per argument")
    ctl = clingo.Control(["--warn=none"], logger=lambda code, msg: None)
    kb.add_to(ctl)
    try:
        ctl.add("base", [], str(asp["program"]))  # project-written query text, like kb/ itself
    except RuntimeError as exc:
        raise QueryError(f"{query.source}: asp.program does not parse: {exc}") from None
    with ctl.backend() as backend:
        for pname, value in values.items():
            p = query.params[pname]
            for v in value if p.type == "list" else [value]:
                backend.add_rule([backend.add_atom(clingo.Function("query_param", [clingo.Function(pname), p.symbol(v)]))])
    ctl.ground([("base", [])])
    models: list[list[clingo.Symbol]] = []
    ctl.configuration.solve.models = 2
    ctl.solve(on_model=lambda m: models.append(m.symbols(atoms=True)))
    if len(models) != 1:
        raise QueryError(f"{query.source}: the query has {len(models)} answer sets; a query must be stratified")
    rows = sorted({tuple(python_value(a) for a in s.arguments) for s in models[0]
                   if s.name == name and len(s.arguments) == int(arity)}, key=repr)
    df = pd.DataFrame(rows, columns=columns)
    # the KB writes dates as YYYYMMDD integers (clingo has no dates); a reader gets dates
    for col in asp.get("dates") or []:
        df[col] = [_kb_date(v, query.source, col) for v in df[col]]
    return df


def _kb_date(value: Any, source: Path, column: str) -> dt.date:
    """A KB date (YYYYMMDD integer, read by the renderers' own :func:`~exportkb.explain.plain.ymd`) as a
    date; anything else (text, an impossible date, an open-ended placeholder) is a defect of the query or the KB."""
    from ..explain.plain import ymd

    d = ymd(value) if isinstance(value, int) and not isinstance(value, bool) else None
    if d is None:
        raise QueryError(f"{source}: asp.dates: column {column!r} holds {value!r}, not a YYYYMMDD date "
                         "(fix: list only date columns under dates:)")
    return d


def jsonable(value: Any) -> Any:
    """Values of a result table as JSON (dates as ISO text, Decimals as numbers)."""
    if isinstance(value, (dt.date,)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
