"""Reforms: named, documented changes to the law, for what-if analysis.

A reform is a file in ``queries/reforms/`` written by the project (never case
data). ``<name>.yaml`` holds::

    title: LPP cap doubled
    description: ...why someone would ask this...
    params:                       # override dated parameters (kb/params.lp)
      - {name: lpp_cap, value: 53800000, from: 2025-01-13}
    overlay: [add-india-to-supp5a.lp]   # extra KB statements (annotated like kb/)
    neutralize: [aia.available]         # switch KB rules off, by rule id

A bare ``<name>.lp`` file is a reform too (an overlay alone; its title is the
first ``% title:`` comment line).

Why three mechanisms: parameter overrides must REPLACE a value, not add a
second one, so they become ``param_override/4`` facts that kb/params.lp prefers
over ``param/4``; overlays can only ADD to a stratified program (a new group
member, a new row), so switching a provision OFF needs ``neutralize``, which
drops the rule's statements from the parsed KB (OpenFisca's "neutralize").

Everything is validated against the KB before solving: an override must name a
parameter the KB has, an overlay may only define predicates the KB already
defines (never case inputs), and a neutralized id must exist.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Sequence

import clingo
import clingo.ast
import re

from ..case.loader import parse_yaml
from ..case.reform_names import (REFORM_NAME_RE, REFORM_SUFFIXES, default_queries_path, default_reforms_path,
                                 known_reform_names, reform_name_problem)
from ..errors import CaseError, ExportKBError
from .knowledge import KnowledgeBase, Rule, head_signature

FOREVER = 99991231
_YAML_KEYS = {"title", "description", "cite", "params", "overlay", "neutralize"}
_PARAM_KEYS = {"name", "value", "from", "to", "note"}
_SKIPPED = (clingo.ast.ASTType.Program, clingo.ast.ASTType.ShowSignature, clingo.ast.ASTType.ShowTerm,
            clingo.ast.ASTType.Defined, clingo.ast.ASTType.Comment)


class ReformError(ExportKBError):
    """A reform file is missing, malformed, or touches something the KB does not have."""


@dataclass(frozen=True)
class ParamOverride:
    """Parameter *name* takes *value* on dates D with start <= D < end (YYYYMMDD)."""

    name: str
    value: int
    start: int
    end: int = FOREVER

    def symbol(self) -> clingo.Symbol:
        return clingo.Function("param_override", [clingo.Function(self.name), clingo.Number(self.value),
                                                  clingo.Number(self.start), clingo.Number(self.end)])


@dataclass(frozen=True)
class Reform:
    """One named change to the law."""

    name: str
    title: str
    description: str
    source: Path
    params: tuple[ParamOverride, ...] = ()
    overlays: tuple[Path, ...] = ()
    neutralize: tuple[str, ...] = ()
    cite: str = ""


# ------------------------------------------------------------------ reading files
def list_reforms(folder: Path | None = None) -> list[Reform]:
    """Every reform in *folder* (default: queries/reforms/), sorted by name."""
    folder = folder or default_reforms_path()
    if not folder.is_dir():
        return []
    names = sorted({p.stem for p in folder.iterdir() if p.suffix in (".yaml", ".yml")}
                   | {p.stem for p in folder.glob("*.lp") if not _used_as_overlay(p, folder)})
    return [load_reform(n, folder) for n in names]


def _used_as_overlay(lp: Path, folder: Path) -> bool:
    """An .lp file named by some YAML reform's overlay is part of it, not a reform of its own."""
    for y in list(folder.glob("*.yaml")) + list(folder.glob("*.yml")):
        try:
            data = _read_yaml(y) or {}
        except ReformError:
            continue
        if isinstance(data, dict) and lp.name in [str(x) for x in data.get("overlay") or []]:
            return True
    return False


#: A reform name: a file stem of the reform folder — never a path (a case file may not make the tool
#: read an arbitrary file, and an error message never quotes a file it was not meant to read).
def load_reform(name: str, folder: Path | None = None) -> Reform:
    """Read reform *name*: the file ``<name>.yaml``, ``.yml`` or ``.lp`` of *folder* (default: queries/reforms/)."""
    folder = folder or default_reforms_path()
    why = reform_name_problem(name, folder)
    if why is not None:
        raise ReformError(f"reform {name!r}: {why[0]} (fix: {why[1]})" if isinstance(name, str) and len(name) <= 100
                          else f"reform: {why[0]} (fix: {why[1]})")
    path = next(folder / f"{name}{s}" for s in REFORM_SUFFIXES if (folder / f"{name}{s}").is_file())
    if path.suffix == ".lp":
        return Reform(name=path.stem, title=_lp_title(path), description="", source=path, overlays=(path,))
    return _reform_from_yaml(path)


def _lp_title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip("% ").lower().startswith("title:"):
            return line.split(":", 1)[1].strip()
    return path.stem


def check_spec(data: Any, where: str, keys: set[str], error: type[ExportKBError], *, shape: str,
               title_fix: str) -> dict:
    """The checks every spec file under queries/ shares (reforms and named queries): a mapping, only
    known keys, a title. Raises *error* with the file and the fix."""
    if not isinstance(data, dict):
        raise error(f"{where}: {shape}")
    unknown = set(data) - keys
    if unknown:
        raise error(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (fix: use {', '.join(sorted(keys))})")
    if not data.get("title"):
        raise error(f"{where}: title: missing (fix: {title_fix})")
    return data


def _reform_from_yaml(path: Path) -> Reform:
    where = str(path)
    data = _read_yaml(path)
    check_spec(data, where, _YAML_KEYS, ReformError,
               shape="a reform is a mapping with title, description, params/overlay/neutralize",
               title_fix="say in one line what the reform changes")
    if not (data.get("params") or data.get("overlay") or data.get("neutralize")):
        raise ReformError(f"{where}: the reform changes nothing (fix: give params, overlay or neutralize)")
    params = []
    for i, row in enumerate(data.get("params") or []):
        at = f"{where}: params[{i}]"
        if not isinstance(row, dict) or set(row) - _PARAM_KEYS or not {"name", "value", "from"} <= set(row):
            raise ReformError(f"{at}: not a parameter override (fix: write {{name: PARAM, value: INTEGER, from: YYYY-MM-DD, to: YYYY-MM-DD}}; to is optional)")
        value = _whole_number(row["value"])
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**31 - 1:
            raise ReformError(f"{at}.value: {value!r} is not a 32-bit whole number (fix: give an integer such as 53800000)")
        params.append(ParamOverride(str(row["name"]), value, _date(row["from"], f"{at}.from"),
                                    _date(row.get("to", FOREVER), f"{at}.to")))
    overlays = []
    for i, rel in enumerate(data.get("overlay") or []):
        p = (path.parent / str(rel)).resolve()
        if p.suffix != ".lp" or not p.is_file() or p.parent != path.parent.resolve():  # never outside the folder
            raise ReformError(f"{where}: overlay[{i}]: not an .lp file next to the reform (fix: name a file in {path.parent})")
        overlays.append(p)
    neutralize = data.get("neutralize") or []
    if not isinstance(neutralize, list) or not all(isinstance(x, str) for x in neutralize):
        raise ReformError(f"{where}: neutralize: not a list of rule ids (fix: give a list of KB rule ids, see `exportkb kb`)")
    return Reform(name=path.stem, title=str(data["title"]), description=str(data.get("description") or ""),
                  source=path, params=tuple(params), overlays=tuple(overlays), neutralize=tuple(neutralize),
                  cite=str(data.get("cite") or ""))


def _read_yaml(path: Path) -> Any:
    """Read a reform file with the case loader's YAML reading (YAML 1.2-safe: ``NO`` stays the text "NO",
    numbers stay text until a field asks for a number), so reforms and cases read scalars the same way."""
    try:
        data, _ = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    except CaseError as exc:
        first = exc.problems[0]
        where = f"{path}:{first.line}" if first.line else str(path)
        raise ReformError(f"{where}: {first.message} (fix: {first.fix or 'correct the YAML syntax'})") from None
    return data


def _whole_number(value: Any) -> Any:
    """A parameter value written as digits (``53800000``, ``26_900_000``, ``-5``) becomes an int; anything else is
    returned unchanged for the caller to reject with its message."""
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    return value


def _date(value: Any, where: str) -> int:
    if isinstance(value, dt.date):
        return value.year * 10000 + value.month * 100 + value.day
    if isinstance(value, int) and 19000101 <= value <= FOREVER:
        return value
    if isinstance(value, str):
        try:
            return _date(dt.date.fromisoformat(value), where)
        except ValueError:
            pass
    raise ReformError(f"{where}: {value!r} is not a date (fix: write YYYY-MM-DD)")


# ------------------------------------------------------------------ applying
def kb_parameters(kb: KnowledgeBase) -> dict[str, list[tuple[int, int, int]]]:
    """The dated parameters of the KB: name -> [(value, from, to)]."""
    ctl = clingo.Control(["--warn=none"])
    kb.add_to(ctl)
    ctl.ground([("base", [])])
    out: dict[str, list[tuple[int, int, int]]] = {}
    for sa in ctl.symbolic_atoms.by_signature("param", 4):
        n, v, f, t = sa.symbol.arguments
        out.setdefault(n.name, []).append((v.number if v.type == clingo.SymbolType.Number else str(v), f.number, t.number))
    return out


def apply_reforms(kb: KnowledgeBase, names: Iterable[str | Reform], folder: Path | None = None) -> KnowledgeBase:
    """The KB with *names* applied in order; raises :class:`ReformError` naming what is wrong.

    The result is an ordinary :class:`KnowledgeBase` (parameter overrides become
    annotated ``param_override/4`` facts of it), so the solver, the explanations
    and the proofs all see the reformed law.
    """
    reforms = tuple(r if isinstance(r, Reform) else load_reform(r, folder) for r in names)
    if not reforms:
        return kb
    seen: set[str] = set()
    for r in reforms:
        if r.name in seen:
            raise ReformError(f"reform {r.name!r} given twice (fix: name each reform once)")
        seen.add(r.name)
    overlays = [p for r in reforms for p in r.overlays]
    new = KnowledgeBase.load(kb.root, extra_files=overlays) if overlays else kb
    _check_overlays(kb, new, reforms)
    new = _neutralized(new, reforms)
    known = kb_parameters(kb)
    taken: list[tuple[ParamOverride, Reform]] = []
    statements, rules = list(new.statements), list(new.rules)
    for r in reforms:
        for o in r.params:
            if o.name not in known:
                raise ReformError(f"{r.source}: params: {o.name!r} is not a parameter of the knowledge base "
                                  f"(fix: use one of {', '.join(sorted(known))})")
            if o.start >= o.end:
                raise ReformError(f"{r.source}: params: {o.name}: from {o.start} is not before to {o.end}")
            for prev, owner in taken:
                if prev.name == o.name and prev.start < o.end and o.start < prev.end:
                    raise ReformError(f"reforms {owner.name!r} and {r.name!r} both override {o.name} on overlapping dates "
                                      "(fix: apply one of them, or give them disjoint date ranges)")
            taken.append((o, r))
            text = f"{o.symbol()}."  # built with clingo's symbol API, never from user text
            clingo.ast.parse_string(text, statements.append)
            rules.append(Rule(id=f"reform.{r.name}.{o.name}", cite=r.cite or "(method) what-if reform",
                              source=str(r.source), reads=r.title, file=str(r.source), line=0, text=text,
                              is_fact=True, head="param_override/4"))
    tag = "+".join(r.name for r in reforms)
    return dataclasses.replace(new, statements=statements, rules=rules, version=f"{kb.version}+{tag}")


def _check_overlays(base: KnowledgeBase, new: KnowledgeBase, reforms: Sequence[Reform]) -> None:
    """Overlays must be annotated like kb/ and may only define predicates the KB defines."""
    overlay_files = {str(p) for r in reforms for p in r.overlays}
    problems = [p for p in new.problems if any(p.startswith(f) or f in p for f in overlay_files)]
    if problems:
        raise ReformError("reform overlay is not annotated like kb/ (see kb/README.md):\n  " + "\n  ".join(problems))
    defined = {r.head for r in base.rules if r.head}
    for r in reforms:
        for path in r.overlays:
            stmts: list[clingo.ast.AST] = []
            try:
                clingo.ast.parse_string(path.read_text(encoding="utf-8"), stmts.append)
            except RuntimeError as exc:
                raise ReformError(f"{path}: cannot parse: {exc}") from None
            for s in stmts:
                if s.ast_type in _SKIPPED:
                    continue
                if s.ast_type != clingo.ast.ASTType.Rule:
                    raise ReformError(f"{path}:{s.location.begin.line}: only facts and rules may appear in a reform overlay: {s}")
                head = head_signature(s)
                if not head:
                    raise ReformError(f"{path}:{s.location.begin.line}: {s}: a reform may not add constraints, choices "
                                      "or disjunctions (the KB stays stratified, one answer per case)")
                if head in base.inputs:
                    raise ReformError(f"{path}:{s.location.begin.line}: {head} is a case input; a reform may not define it")
                if head not in defined:
                    raise ReformError(f"{path}:{s.location.begin.line}: {head} is not a predicate of the knowledge base "
                                      f"(fix: check the spelling; a reform may only add to predicates kb/ defines)")


def _neutralized(kb: KnowledgeBase, reforms: Sequence[Reform]) -> KnowledgeBase:
    """The KB without the statements of the neutralized rule ids."""
    ids = {i for r in reforms for i in r.neutralize}
    if not ids:
        return kb
    unknown = sorted(ids - set(kb.rules_by_id))
    if unknown:
        raise ReformError(f"neutralize: unknown rule id(s) {', '.join(unknown)} (fix: see `exportkb kb` for the ids)")
    # kb.rules lists, in order, exactly the statements that are not skipped and sit under a block.
    if any("no %! annotation block" in p for p in kb.problems):
        raise ReformError("cannot neutralize rules while the KB has unannotated statements (run the annotation tests)")
    keep_stmts, keep_rules = [], []
    rules = iter(kb.rules)
    for stmt in kb.statements:
        if stmt.ast_type in _SKIPPED:
            keep_stmts.append(stmt)
            continue
        rule = next(rules)
        if rule.id in ids:
            continue
        keep_stmts.append(stmt)
        keep_rules.append(rule)
    return dataclasses.replace(kb, statements=keep_stmts, rules=keep_rules)


def reform_names(global_names: Sequence[str], case_names: Sequence[str] | None) -> tuple[str, ...]:
    """The reforms that apply to one case: those given for the run, then the case's own (no duplicates)."""
    out: list[str] = list(global_names)
    for n in case_names or ():
        if n not in out:
            out.append(n)
    return tuple(out)
