"""Counterfactuals: the smallest changes to a case that flip one determination.

"What would have to change for AIA to be available?" is answered by clingo
itself, with a separate program (``encodings/counterfactual.lp``) laid over the
knowledge base — never inside `kb/`, which stays stratified. Each changeable
field of the case (declared as data in ``encodings/change_space.yaml``) becomes
a choice among candidate values, the case's own value included at no cost; a
constraint demands that the goal flips and ``#minimize`` counts the changes.
clingo's ``--opt-mode=optN`` enumerates every optimal choice; a further
*level* excludes the sets already found (and so all their supersets) and asks
for the next-best.

Why the candidate facts come from :func:`exportkb.case.facts.case_facts`: the search
must see a changed case exactly as the ordinary solver would. For every field
and candidate value the case is copied with that value, its facts are rebuilt,
and the facts that differ from the original become ``cf_gives(Field, K, Fact)``
— so no second translation of the case format exists to drift from the first.
Every change set found is then applied to the case and re-solved with the
ordinary :class:`~exportkb.solve.solver.Solver`; ``verified`` says the goal indeed
holds there.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import clingo
import clingo.ast
import yaml

from ..solve.determination import Determination
from ..errors import ExportKBError, SolveError
from ..case.facts import case_facts, date_int
from ..kb import KnowledgeBase
from ..case.exact import INT32_MAX, LIMB, TPP_BOUND
from ..case.model import Case
from ..solve.solver import Solver

CF_KEY = "#cf"  # case-id key of the facts in the counterfactual program
_GOAL_RE = re.compile(r"^\s*(not\s+)?([a-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$")
_IDENT_RE = re.compile(r"^[a-z_][A-Za-z0-9_]*$")
_INT_RE = re.compile(r"^-?[0-9]+$")


class CounterfactualError(ExportKBError):
    """A goal or change space that cannot be used (bad goal text, malformed space file)."""


# --------------------------------------------------------------------------- data at the boundary
@dataclass(frozen=True)
class Goal:
    """An output atom of the KB that must become true (``holds``) or false."""

    predicate: str
    args: tuple[clingo.Symbol, ...]  # without the case id
    holds: bool = True

    def symbol(self, case_key: str) -> clingo.Symbol:
        return clingo.Function(self.predicate, [clingo.String(case_key), *self.args])

    def __str__(self) -> str:
        inner = ", ".join(a.string if a.type == clingo.SymbolType.String and _IDENT_RE.match(a.string)
                          else str(a) for a in self.args)
        atom = f"{self.predicate}({inner})" if self.args else self.predicate
        return atom if self.holds else f"not {atom}"


@dataclass(frozen=True)
class FieldChange:
    """One field of the case set to another value."""

    path: str          # e.g. "parties[0].ultimate_parent_headquarters"
    before: Any
    after: Any
    line: int | None   # line of the field (or of its parent) in the case file
    note: str = ""     # e.g. the legal class of a representative country

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "from": _plain(self.before), "to": _plain(self.after),
                "line": self.line, "note": self.note}

    def __str__(self) -> str:
        text = f"{self.path}: {_show(self.before)} -> {_show(self.after)}"
        return text + (f"  ({self.note})" if self.note else "")


@dataclass
class ChangeSet:
    """A set of field changes that makes the goal true, with the case it yields."""

    changes: list[FieldChange]
    cost: int
    level: int                      # 1 = optimal; 2 = next-best (no superset of a level-1 set) ...
    case: Case                      # the original case with the changes applied
    determination: Determination    # the ordinary solver's answer for the changed case
    verified: bool                  # the ordinary solver confirms the goal on the changed case

    def explain(self, goal: Goal, kb: KnowledgeBase, explainer: Any = None) -> Any:
        """The proof (``exportkb.explain.Proof``) of *goal* on the changed case: why it now holds.

        For a negated goal (``not license_required(gpus)``) this is the
        why-not proof of the atom on the changed case.
        """
        from ..explain import explain
        atom = clingo.Function(goal.predicate, list(goal.args))
        return explain(self.case, atom, kb, explainer=explainer)

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "cost": self.cost, "verified": self.verified,
                "changes": [c.to_json() for c in self.changes],
                "determination": self.determination.to_json()}


@dataclass
class CounterfactualResult:
    case: str
    goal: Goal
    goal_holds_already: bool
    change_sets: list[ChangeSet]
    message: str
    space: dict[str, int]           # field path -> number of candidate values
    max_changes: int | None

    def to_json(self) -> dict[str, Any]:
        return {"case": self.case, "goal": str(self.goal), "goal_holds_already": self.goal_holds_already,
                "message": self.message, "max_changes": self.max_changes, "space": dict(self.space),
                "change_sets": [c.to_json() for c in self.change_sets]}


@dataclass(frozen=True)
class Candidate:
    value: Any
    note: str = ""


@dataclass
class FieldSpace:
    """One concrete field of one case with its candidate values (index 0 = the case's value)."""

    path: str
    cost: int
    candidates: list[Candidate]
    kind: str = ""
    alone: bool = False  # searched in a pass of its own (see change_space.yaml)
    dropped: list[Any] = field(default_factory=list)  # candidates left out (32-bit sum budget)


# --------------------------------------------------------------------------- goals
def parse_goal(text: str, kb: KnowledgeBase, case: Case, item: str | None = None) -> Goal:
    """Read ``[not] predicate(arg, ...)``; with *item*, the item id is the first argument.

    Arguments that name an item or party of the case are strings (as in the
    case facts); other lower-case words are constants (``aia``); integers are
    numbers; ``"quoted"`` text is a string. Only the KB's output predicates
    (``#show`` in kb/show.lp) may be goals: they are what a determination says.
    """
    m = _GOAL_RE.match(text or "")
    shown = shown_signatures(kb)
    example = "e.g. --item gpus --goal 'exception_available(aia)' or --goal 'not license_required(gpus)'"
    if not m:
        raise CounterfactualError(f"--goal {text!r}: not of the form [not] predicate(arg, ...) (fix: {example})")
    negated, pred, inner = m.group(1), m.group(2), m.group(3)
    ids = {it.id for it in case.items} | {p.id for p in case.parties}
    args: list[clingo.Symbol] = [clingo.String(item)] if item is not None else []
    if item is not None and item not in {it.id for it in case.items}:
        raise CounterfactualError(f"--item {item!r}: case {case.case!r} has no such item "
                                  f"(fix: one of {', '.join(sorted(it.id for it in case.items))})")
    for raw in _split_args(inner or ""):
        args.append(_goal_arg(raw, ids, text))
    arity = 1 + len(args)
    if (pred, arity) not in shown:
        arities = sorted(a - 1 for p, a in shown if p == pred)
        known = ", ".join(sorted(f"{p}/{a - 1}" for p, a in shown))
        fix = (f"{pred} takes {' or '.join(map(str, arities))} argument(s) after the case" if arities
               else f"use an output predicate: {known}")
        raise CounterfactualError(f"--goal {text!r}: {pred} with {arity - 1} argument(s) is not an output "
                                  f"of the knowledge base (fix: {fix})")
    return Goal(pred, tuple(args), holds=not negated)


def _split_args(inner: str) -> list[str]:
    parts, depth, cur, quoted = [], 0, "", False
    for ch in inner:
        if ch == '"':
            quoted = not quoted
        if ch == "," and depth == 0 and not quoted:
            parts.append(cur.strip())
            cur = ""
            continue
        depth += (ch == "(") - (ch == ")") if not quoted else 0
        cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def _goal_arg(raw: str, ids: set[str], text: str) -> clingo.Symbol:
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return clingo.String(raw[1:-1])
    if raw in ids:
        return clingo.String(raw)
    if _INT_RE.match(raw):
        return clingo.Number(int(raw))
    if _IDENT_RE.match(raw):
        return clingo.Function(raw)
    raise CounterfactualError(f"--goal {text!r}: argument {raw!r} is neither an item or party id of the case, "
                              "a lower-case constant, an integer nor \"quoted\" text (fix: quote it)")


def shown_signatures(kb: KnowledgeBase) -> set[tuple[str, int]]:
    """The ``#show name/arity`` signatures of the KB: the predicates a determination reads."""
    out = set()
    for stmt in kb.statements:
        if stmt.ast_type == clingo.ast.ASTType.ShowSignature and stmt.positive:
            out.add((stmt.name, stmt.arity))
    return out


# --------------------------------------------------------------------------- the change space
def default_space_path() -> Path:
    return Path(str(resources.files("exportkb.analysis"))) / "encodings" / "change_space.yaml"


def _encoding_text() -> str:
    return (Path(str(resources.files("exportkb.analysis"))) / "encodings" / "counterfactual.lp").read_text(encoding="utf-8")


@dataclass
class KBFacts:
    """What the change space needs from the KB itself: dated groups, parameters, dates, vocabularies."""

    kb: KnowledgeBase

    @cached_property
    def _atoms(self) -> dict[str, list[tuple]]:
        ctl = clingo.Control(["--warn=none"], logger=lambda code, msg: None)
        self.kb.add_to(ctl)
        ctl.ground([("base", [])])
        out: dict[str, list[tuple]] = {"group_member_ear": [], "param": [], "milestone": []}
        arity = {"group_member_ear": 4, "param": 4, "milestone": 2}
        for name in out:
            for sa in ctl.symbolic_atoms.by_signature(name, arity[name]):
                if sa.is_fact:
                    out[name].append(tuple(_py(a) for a in sa.symbol.arguments))
        for v in out.values():
            v.sort(key=repr)
        return out

    def groups_of(self, country: str, day: int) -> set[str]:
        return {g for g, x, f, t in self._atoms["group_member_ear"] if x == country and f <= day < t}

    def param_values(self, name: str, day: int) -> list[int]:
        """The integer values of KB parameter *name* in force on *day* (param/4 rows)."""
        return sorted({v for n, v, f, t in self._atoms["param"] if n == name and isinstance(v, int) and f <= day < t})

    def milestone_names(self) -> dict[int, str]:
        out: dict[int, str] = {}
        for name, d in self._atoms["milestone"]:
            out[d] = f"{out[d]}, {name}" if d in out else str(name)
        return out

    def boundary_dates(self) -> list[int]:
        """Every date at which the KB's law changes: milestones, parameter and group-row bounds."""
        days = {d for _, d in self._atoms["milestone"]}
        for _, _, f, t in self._atoms["param"] + self._atoms["group_member_ear"]:
            days.update((f, t))
        return sorted(d for d in days if 19500101 < d < 99991231)


def load_space(path: Path | None = None) -> dict[str, Any]:
    p = path or default_space_path()
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CounterfactualError(f"{p}: cannot read the change space ({exc}) (fix: give a YAML file like "
                                  "src/exportkb/encodings/change_space.yaml)") from None
    if not isinstance(data, dict) or not isinstance(data.get("fields"), list):
        raise CounterfactualError(f"{p}: fields: missing or not a list (fix: see docs/counterfactuals.md)")
    return data


def normalize(case: Case) -> Case:
    """Make defaulted locations explicit so that each field maps to facts of its own.

    A party's headquarters defaults to its country and its parent's to its
    headquarters (docs/case-format.md). Written out, changing where a party is
    located no longer silently moves its headquarters: a change set changes
    exactly the fields it lists.
    """
    parties = []
    for p in case.parties:
        hq = p.headquarters or p.country
        parties.append(p.model_copy(update={"headquarters": hq,
                                            "ultimate_parent_headquarters": p.ultimate_parent_headquarters or hq}))
    return case.model_copy(update={"parties": parties})


class ChangeSpace:
    """Turns the declared space (YAML) into concrete fields and candidates for one case."""

    def __init__(self, kb: KnowledgeBase, spec: dict[str, Any] | None = None):
        self.kb = kb
        self.spec = spec if spec is not None else load_space()
        self.kbf = KBFacts(kb)

    def fields(self, case: Case, only: Sequence[str] | None = None) -> list[FieldSpace]:
        out: list[FieldSpace] = []
        for entry in self.spec["fields"]:
            pattern, kind = entry.get("path"), entry.get("kind")
            cost = int(entry.get("cost", 1))
            for path in _expand(pattern, case):
                if only and not any(_matches(path, pattern_) for pattern_ in only):
                    continue
                current = get_path(case, path)
                cands = self._candidates(kind, entry, case, path, current)
                seen, uniq = set(), [Candidate(current, self._note(kind, current, case))]
                seen.add(_key(current))
                for c in cands:
                    if _key(c.value) not in seen:
                        seen.add(_key(c.value))
                        uniq.append(c)
                if len(uniq) > 1:
                    out.append(FieldSpace(path, cost, uniq, kind, bool(entry.get("alone"))))
        self._fit_sum_budget(case, out)
        return out

    def _fit_sum_budget(self, case: Case, fields: list[FieldSpace]) -> None:
        """Drop the largest quantity candidates until every #sum over item TPP stays within 32 bits.

        The KB sums an item's aggregate TPP as millions and units in two #sum
        aggregates (kb/README.md, "Exact arithmetic"), and every candidate
        quantity is a possible element of both: clasp rejects a sum aggregate
        whose possible weights add up beyond 2^31-1, and the KB then adds a
        usage figure (at most 10^9 millions, under 10^6 units) to the sum. So the
        possible millions may add up to at most 10^9 and the possible units to
        at most 2*10^9. Dropped candidates are recorded on the field.
        """
        qty = [f for f in fields if f.kind == "quantity"]
        tpp = {f.path: int(get_path(case, f.path.rsplit(".", 1)[0]).tpp or 0) for f in qty}
        parts = [divmod(it.quantity * int(it.tpp), LIMB) for i, it in enumerate(case.items)
                 if it.tpp is not None and f"items[{i}].quantity" not in tpp]
        parts += [divmod(f.candidates[0].value * tpp[f.path], LIMB) for f in qty]
        budget_hi = TPP_BOUND // LIMB - sum(h for h, _ in parts)
        budget_lo = 2 * 10**9 - sum(lo for _, lo in parts)
        extra = sorted(((c.value * tpp[f.path], f.path, c) for f in qty for c in f.candidates[1:]),
                       key=lambda t: (t[0], t[1], t[2].value))
        keep: set[tuple[str, int]] = set()
        for total, path, c in extra:
            hi, lo = divmod(total, LIMB)
            if hi <= budget_hi and lo <= budget_lo:
                budget_hi -= hi
                budget_lo -= lo
                keep.add((path, c.value))
        for f in qty:
            dropped = [c.value for c in f.candidates[1:] if (f.path, c.value) not in keep]
            f.candidates = [f.candidates[0]] + [c for c in f.candidates[1:] if (f.path, c.value) in keep]
            f.dropped = dropped
        fields[:] = [f for f in fields if len(f.candidates) > 1]

    # -- candidates per kind ------------------------------------------------
    def _candidates(self, kind: str, entry: dict, case: Case, path: str, current: Any) -> list[Candidate]:
        if kind == "country":
            day = date_int(case.date)
            reps = [Candidate(x, label) for x, label in self.country_representatives(day)]
            return reps + [Candidate(x, self.country_class(x, day)[1]) for x in case_countries(case)]
        if kind == "bool":
            return [Candidate(False), Candidate(True)]
        if kind == "vocabulary":
            vals = [Candidate(v) for v in sorted(self.kb.values(entry["vocabulary"]))]
            return vals + ([Candidate(None, "not stated")] if entry.get("optional") else [])
        if kind == "date":
            return self._dates(case)
        if kind == "quantity":
            return [Candidate(q) for q in self._quantities(case, path)]
        if kind == "usage":
            return [Candidate(u) for u in self._usages(case, path)]
        raise CounterfactualError(f"change space: field {path!r} has unknown kind {kind!r} "
                                  "(fix: country | bool | vocabulary | date | quantity | usage)")

    def _note(self, kind: str, value: Any, case: Case) -> str:
        return self.country_class(value, date_int(case.date))[1] if kind == "country" and value else ""

    def country_class(self, country: str, day: int) -> tuple[str, str]:
        groups = self.kbf.groups_of(country, day)
        for cls in self.spec.get("country_classes", []):
            if (country in cls.get("countries", []) or groups & set(cls.get("groups_any", []))
                    or cls.get("rest")):
                return cls["id"], cls.get("label", cls["id"])
        return "", ""

    def country_representatives(self, day: int) -> list[tuple[str, str]]:
        """One KB country per class on *day*: the alphabetically first member."""
        reps: dict[str, tuple[str, str]] = {}
        for code in sorted(self.kb.countries):
            cid, label = self.country_class(code, day)
            if cid and cid not in reps:
                reps[cid] = (code, label)
        order = [c["id"] for c in self.spec.get("country_classes", [])]
        return [reps[c] for c in order if c in reps]

    def _dates(self, case: Case) -> list[Candidate]:
        """One date per interval between the KB's dated boundaries, the one nearest the case date.

        Between two consecutive boundaries the KB's law does not change, so
        one date stands for the whole interval: its last day if the interval
        lies before the case date, its first day if after.
        """
        names = self.kbf.milestone_names()
        bounds = [_to_date(d) for d in self.kbf.boundary_dates()]
        own = case.date
        out: list[Candidate] = []
        for lo, hi in zip([None] + bounds, bounds + [None]):
            if (lo is None or lo <= own) and (hi is None or own < hi):
                continue  # the case's own interval: no change of law within it
            if hi is not None and hi <= own:
                day = hi - dt.timedelta(days=1)
                out.append(Candidate(day, _label("the day before", names.get(date_int(hi)), hi)))
            else:
                out.append(Candidate(lo, _label("", names.get(date_int(lo)), lo)))
        return out

    def _limits(self, case: Case) -> list[tuple[int, str]]:
        """(value, usage key) of every declared TPP limit in force on the case date."""
        day = date_int(case.date)
        out = []
        for name, usage_key in sorted((self.spec.get("tpp_limits") or {}).items()):
            for v in self.kbf.param_values(str(name), day):
                out.append((v, str(usage_key)))
        return sorted(set(out))

    def _quantities(self, case: Case, path: str) -> list[int]:
        item = get_path(case, path.rsplit(".", 1)[0])
        if item.tpp is None or int(item.tpp) == 0:
            return [1]
        tpp = int(item.tpp)
        usage = case.usage_this_year.model_dump()
        out = {1}
        for v, key in self._limits(case):
            q = (v - usage.get(key, 0)) // tpp  # the most units that stay within the limit
            out.update(x for x in (q, q + 1) if 1 <= x <= INT32_MAX and x * tpp <= TPP_BOUND)
        return sorted(out)

    def _usages(self, case: Case, path: str) -> list[int]:
        key = path.rsplit(".", 1)[1]
        shipped = sum(it.quantity * int(it.tpp) for it in case.items if it.tpp is not None)
        out = {0}
        for v, k in self._limits(case):
            if k == key:
                out.update(u for u in (v - shipped, v - shipped + 1) if 0 <= u and u + shipped <= TPP_BOUND)
        return sorted(out)


def case_countries(case: Case) -> list[str]:
    """The countries the case already names (a change to one of them is the most natural to read)."""
    named = {case.to, case.from_}
    for p in case.parties:
        named.update(x for x in (p.country, p.headquarters, p.ultimate_parent_headquarters) if x)
    return sorted(named)


def _expand(pattern: str, case: Case) -> list[str]:
    """``parties[*].country`` -> ``parties[0].country``, ...; ``usage_this_year.*`` -> each usage key."""
    if pattern.startswith("items[*]."):
        return [f"items[{i}].{pattern[9:]}" for i in range(len(case.items))]
    if pattern.startswith("parties[*]."):
        return [f"parties[{i}].{pattern[11:]}" for i in range(len(case.parties))]
    if pattern == "usage_this_year.*":
        return [f"usage_this_year.{k}" for k in case.usage_this_year.model_dump()]
    return [pattern]


def _matches(path: str, pattern: str) -> bool:
    """Does a concrete path match a user filter (``parties[*].country``, ``usage_this_year.*``, exact)?"""
    rx = re.escape(pattern).replace(r"\[\*\]", r"\[[0-9]+\]").replace(r"\*", r"[a-z0-9_]+")
    return re.fullmatch(rx, path) is not None


# --------------------------------------------------------------------------- paths into a Case
_STEP_RE = re.compile(r"([a-z_][a-z0-9_]*)(?:\[([0-9]+)\])?")


def _steps(path: str) -> list[tuple[str, int | None]]:
    out = []
    for part in path.split("."):
        m = _STEP_RE.fullmatch(part)
        if not m:
            raise CounterfactualError(f"field path {path!r}: cannot read {part!r}")
        out.append((m.group(1), int(m.group(2)) if m.group(2) is not None else None))
    return out


def get_path(obj: Any, path: str) -> Any:
    for name, index in _steps(path):
        obj = getattr(obj, "to" if name == "to" else name)
        if index is not None:
            obj = obj[index]
    return obj


def set_path(obj: Any, path: str, value: Any) -> Any:
    """A copy of *obj* with the field at *path* set (pydantic ``model_copy``, nothing mutated)."""
    (name, index), rest = _steps(path)[0], ".".join(path.split(".")[1:])
    if index is None and not rest:
        return obj.model_copy(update={name: value})
    child = getattr(obj, name)
    if index is not None:
        seq = list(child)
        seq[index] = set_path(seq[index], rest, value) if rest else value
        return obj.model_copy(update={name: seq})
    return obj.model_copy(update={name: set_path(child, rest, value)})


# --------------------------------------------------------------------------- the search
@dataclass
class CounterfactualOptions:
    max_changes: int | None = 3
    levels: int = 1                  # 1: optimal change sets; 2: also the next-best ...
    fields: Sequence[str] | None = None  # restrict the space to these paths/patterns
    keep: Sequence[str] = ()         # ... and keep these paths/patterns as they are
    allow_out_of_scope: bool = False  # count changes that take the case outside the KB's scope
    time_limit: float | None = 60.0  # seconds per level


class Counterfactuals:
    """Searches one KB for minimal change sets. Reuse one instance per process."""

    def __init__(self, kb: KnowledgeBase, solver: Solver | None = None, space: ChangeSpace | None = None):
        self.kb = kb
        self.solver = solver or Solver(kb)
        self.space = space or ChangeSpace(kb)

    def search(self, case: Case, goal: Goal, options: CounterfactualOptions | None = None) -> CounterfactualResult:
        opts = options or CounterfactualOptions()
        base = normalize(case)
        fields = [f for f in self.space.fields(base, opts.fields)
                  if not any(_matches(f.path, k) for k in opts.keep)]
        space = {f.path: len(f.candidates) for f in fields}
        result = CounterfactualResult(case.case, goal, False, [], "", space, opts.max_changes)
        if self._goal_holds(base, goal):
            result.goal_holds_already = True
            result.message = f"{goal} already holds for case {case.case!r}: nothing has to change"
            return result
        found: list[tuple[int, tuple[tuple[str, int], ...]]] = []  # (cost, choice)
        for group in _passes(fields):
            found.extend(self._search_pass(case, base, goal, group, opts))
        costs = sorted({cost for cost, _ in found})
        rank = {c: i + 1 for i, c in enumerate(costs)}
        chosen = [(cost, choice) for cost, choice in sorted(found, key=lambda t: (t[0], len(t[1]), t[1]))
                  if rank[cost] <= max(1, opts.levels)]
        chosen = _nearest_numeric(chosen, fields)
        result.change_sets = self._change_sets(case, base, fields, [(c, rank[k]) for k, c in chosen], goal)
        if not result.change_sets:
            bound = f"at most {opts.max_changes} change(s)" if opts.max_changes is not None else "any number of changes"
            result.message = (f"no change within the declared space ({len(fields)} field(s), {sum(space.values())} "
                              f"candidate values, {bound}) makes {goal} hold for case {case.case!r}")
        else:
            best = min(c.cost for c in result.change_sets)
            n = sum(1 for c in result.change_sets if c.level == 1)
            result.message = f"{n} optimal change set(s) of cost {best} make {goal} hold"
            if any(not c.verified for c in result.change_sets):
                result.message += "; WARNING: some were not confirmed by the ordinary solver (see `verified`)"
        return result

    # -- internals ----------------------------------------------------------
    def _search_pass(self, case: Case, base: Case, goal: Goal, fields: list[FieldSpace],
                     opts: CounterfactualOptions) -> list[tuple[int, tuple[tuple[str, int], ...]]]:
        """One grounding over *fields*: its optimal sets, then (levels > 1) the next-best, and so on.

        After each level the sets found are forbidden (a constraint per set),
        which also forbids all their supersets: the next optimum is a genuinely
        different way to flip the goal, not the same change plus noise.
        """
        cost_of = {f.path: f.cost for f in fields}
        ctl = self._program(base, goal, fields, opts)
        out = []
        for _ in range(max(1, opts.levels)):
            models = self._optimal_models(ctl, opts, case)
            if not models:
                break
            out.extend((sum(cost_of[p] for p, _ in choice), choice) for choice in models)
            with ctl.backend() as backend:
                for choice in models:
                    lits = [backend.add_atom(clingo.Function("cf_set", [clingo.String(p), clingo.Number(k)]))
                            for p, k in choice]
                    backend.add_rule([], lits)
        return out

    def _goal_holds(self, case: Case, goal: Goal) -> bool:
        atoms = set(self.solver.models([case])[0])
        return (goal.symbol("#0") in atoms) == goal.holds

    def _program(self, base: Case, goal: Goal, fields: list[FieldSpace],
                 opts: CounterfactualOptions) -> clingo.Control:
        original = set(case_facts(base, CF_KEY))
        owned: dict[clingo.Symbol, str] = {}
        gives: list[tuple[str, int, clingo.Symbol]] = []
        for f in fields:
            per_value = []
            for k, cand in enumerate(f.candidates):
                facts = set(case_facts(set_path(base, f.path, cand.value), CF_KEY))
                per_value.append((facts - original, original - facts))
            removed = set().union(*(r for _, r in per_value))
            for sym in removed:
                if sym in owned:
                    raise CounterfactualError(f"change space: fields {owned[sym]!r} and {f.path!r} both decide "
                                              f"the fact {sym} (fix: declare only independent fields)")
                owned[sym] = f.path
            for k, (added, rem) in enumerate(per_value):
                for sym in sorted(added | (removed - rem)):
                    gives.append((f.path, k, sym))
        ctl = clingo.Control(["--warn=none", "--opt-mode=optN", "--models=0"], logger=lambda code, msg: None)
        self.kb.add_to(ctl)
        ctl.add("base", [], _encoding_text() + "\n" + self._lifting_rules(goal))
        with ctl.backend() as backend:
            def fact(sym: clingo.Symbol) -> None:
                backend.add_rule([backend.add_atom(sym)])
            for sym in sorted(original - set(owned)):
                fact(sym)
            S, N, F = clingo.String, clingo.Number, clingo.Function
            for f in fields:
                fact(F("cf_field", [S(f.path), N(f.cost)]))
                fact(F("cf_original", [S(f.path), N(0)]))
                for k in range(len(f.candidates)):
                    fact(F("cf_value", [S(f.path), N(k)]))
            for path, k, sym in gives:
                fact(F("cf_gives", [S(path), N(k), sym]))
            fact(F("cf_goal", [F("holds" if goal.holds else "fails"), goal.symbol(CF_KEY)]))
            if opts.max_changes is not None:
                fact(F("cf_max_changes", [N(opts.max_changes)]))
            if not opts.allow_out_of_scope:
                fact(F("cf_in_scope_only", [S(CF_KEY)]))
        ctl.ground([("base", [])])
        return ctl

    def _lifting_rules(self, goal: Goal) -> str:
        """``p(X1..Xn) :- cf_holds(p(X1..Xn)).`` per KB input; ``cf_true(..) :- goal-pred(..)``.

        Built from the KB's own ``%input`` declarations and the validated goal
        predicate name — identifiers of the KB, never case data.
        """
        lines = []
        for key, args in sorted(self.kb.inputs.items()):
            name = key.split("/")[0]  # inputs are keyed "name/arity"
            vs = ", ".join(f"X{i}" for i in range(len(args)))
            atom = f"{name}({vs})" if args else name
            lines.append(f"{atom} :- cf_holds({atom}).")
        n = 1 + len(goal.args)
        vs = ", ".join(f"X{i}" for i in range(n))
        lines.append(f"cf_true({goal.predicate}({vs})) :- {goal.predicate}({vs}).")
        return "\n".join(lines) + "\n"

    def _optimal_models(self, ctl: clingo.Control, opts: CounterfactualOptions,
                        case: Case) -> list[tuple[tuple[str, int], ...]]:
        """Every optimal choice (changed fields only), sorted: deterministic across runs."""
        found: list[tuple[tuple[str, int], ...]] = []
        with ctl.solve(yield_=True, async_=True) as handle:
            while True:
                handle.resume()
                ready = handle.wait(opts.time_limit) if opts.time_limit else handle.wait()
                if not ready:
                    handle.cancel()
                    raise SolveError(f"counterfactual search for case {case.case!r} exceeded {opts.time_limit} s "
                                     "(fix: narrow it with --field or --max-changes, or raise --time-limit)")
                model = handle.model()
                if model is None:
                    break
                if model.optimality_proven:
                    choice = tuple(sorted((s.arguments[0].string, s.arguments[1].number)
                                          for s in model.symbols(shown=True)
                                          if s.name == "cf_set" and s.arguments[1].number != 0))
                    found.append(choice)
        return sorted(set(found), key=lambda c: (len(c), c))

    def _change_sets(self, case: Case, base: Case, fields: list[FieldSpace],
                     chosen: list[tuple[tuple[tuple[str, int], ...], int]], goal: Goal) -> list[ChangeSet]:
        """Apply each chosen set to the case and re-solve them all with the ordinary solver (one grounding)."""
        by_path = {f.path: f for f in fields}
        built: list[tuple[list[FieldChange], int, int, Case]] = []
        for choice, level in chosen:
            changed = base
            changes = []
            for path, k in choice:
                fs = by_path[path]
                cand = fs.candidates[k]
                changes.append(FieldChange(path, fs.candidates[0].value, cand.value, _line_of(case, path), cand.note))
                changed = set_path(changed, path, cand.value)
            changed = changed.model_copy(update={"case": f"{case.case}+cf", "title": _title(case, changes)})
            changed._source, changed._lines = case._source, dict(case._lines)
            built.append((changes, sum(by_path[p].cost for p, _ in choice), level, changed))
        models = self.solver.models([b[3] for b in built]) if built else []
        out = []
        for n, ((changes, cost, level, changed), atoms) in enumerate(zip(built, models)):
            verified = (goal.symbol(f"#{n}") in set(atoms)) == goal.holds
            # the determination reads atoms keyed "#n"; it reports them under the changed case's id
            out.append(ChangeSet(changes, cost, level, changed, self.solver.to_determination(changed, atoms), verified))
        return out


def _nearest_numeric(chosen: list[tuple[int, tuple[tuple[str, int], ...]]],
                     fields: list[FieldSpace]) -> list[tuple[int, tuple[tuple[str, int], ...]]]:
    """Of equally costly sets that change the same numeric fields (quantity, usage), keep the nearest.

    Shipping 1 unit and shipping 1,699 units both bring 2,000 H100s under the LPP
    cap at cost 1; the answer a reader wants is the change nearest the case
    ("ship at most 1,699"), so a farther value of the same fields is dropped.
    Sets that touch any non-numeric field are kept as they are.
    """
    by_path = {f.path: f for f in fields}

    def distance(choice: tuple[tuple[str, int], ...]) -> int | None:
        total = 0
        for path, k in choice:
            f = by_path[path]
            if f.kind not in ("quantity", "usage"):
                return None
            total += abs(f.candidates[k].value - f.candidates[0].value)
        return total

    best: dict[tuple[int, tuple[str, ...]], int] = {}
    for cost, choice in chosen:
        d = distance(choice)
        if d is not None:
            key = (cost, tuple(p for p, _ in choice))
            best[key] = min(d, best.get(key, d))
    return [(cost, choice) for cost, choice in chosen
            if distance(choice) is None or distance(choice) == best[(cost, tuple(p for p, _ in choice))]]


def _passes(fields: list[FieldSpace]) -> list[list[FieldSpace]]:
    """The fields searched together, and each `alone` field on its own."""
    together = [f for f in fields if not f.alone]
    return ([together] if together else []) + [[f] for f in fields if f.alone]


def _title(case: Case, changes: list[FieldChange]) -> str:
    return f"{case.title or case.case} — counterfactual: " + "; ".join(str(c) for c in changes)


def _line_of(case: Case, path: str) -> int | None:
    while path:
        line = case.line_of(path)
        if line is not None:
            return line
        path = path.rsplit(".", 1)[0] if "." in path else ""
    return None


# --------------------------------------------------------------------------- small helpers
def _py(sym: clingo.Symbol) -> Any:
    if sym.type == clingo.SymbolType.Number:
        return sym.number
    if sym.type == clingo.SymbolType.String:
        return sym.string
    return sym.name if sym.type == clingo.SymbolType.Function and not sym.arguments else str(sym)


def _label(prefix: str, milestone: str | None, day: dt.date) -> str:
    what = f"milestone {milestone}" if milestone else "a dated change of a KB parameter or country group"
    return f"{prefix} {what} ({day.isoformat()})".strip() if prefix else f"{what}"


def _to_date(d: int) -> dt.date:
    return dt.date(d // 10000, d // 100 % 100, d % 100)


def _key(v: Any) -> tuple[str, str]:
    return (type(v).__name__, str(v))


def _plain(v: Any) -> Any:
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def _show(v: Any) -> str:
    return "(not stated)" if v is None else str(_plain(v))
