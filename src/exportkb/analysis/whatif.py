"""What-if analysis: sweeps over a grid of scenarios, reforms, rules over time.

Every scenario is a modified copy of a case, re-validated by
:func:`exportkb.case.loader.case_from_data` (so a bad axis value gets the loader's
message naming the field and the fix), and scenarios are solved in large
batches — thousands per grounding — by :meth:`Solver.determine_many`, never one
solve per scenario.

Nothing here encodes law: the determinations come from the KB; this module only
varies the facts (sweeps), the law (reforms, see :mod:`exportkb.kb.reforms`) or the
date (``as_of``), and tabulates or diffs what the KB concludes.
"""
from __future__ import annotations

import copy
import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from ..solve.determination import Determination, ItemDetermination
from ..errors import ExportKBError
from ..kb import KnowledgeBase
from ..case.loader import case_from_data
from ..case.model import Case, H200Certifications, Item, Knowledge, Party, Usage
from ..kb.reforms import reform_names
from ..solve.laws import ReformCache
from ..solve.solver import SolveOptions

SWEEP_CHUNK = 2000  # scenarios per grounding; see docs/whatif.md for the measurement
ALL = "ALL"
_COUNTRY_FIELDS = {"to", "from", "country", "headquarters", "ultimate_parent_headquarters",
                   "iaas_training_4e091_for_hq", "ultimate_destination"}
_VOCAB = {"end_use": "end_use_value", "transaction": "transaction_kind", "role": "party_role_value",
          "veu": "veu_value", "kind": "item_kind_value"}
_CASE_FIELDS = {(f.alias or k) for k, f in Case.model_fields.items()} - {"items", "parties", "usage_this_year",
                                                                        "knowledge", "h200_certifications", "expect", "case",
                                                                        "reform"}
_ITEM_FIELDS = set(Item.model_fields) - {"id"}
_PARTY_FIELDS = set(Party.model_fields) - {"id"}
_NESTED = {"usage_this_year": set(Usage.model_fields), "knowledge": set(Knowledge.model_fields),
           "h200_certifications": set(H200Certifications.model_fields)}

ProgressFn = Callable[[int, int], None]



def require_pandas():
    """The pandas module, or a clear error naming the extra to install (what-if tables need it)."""
    try:
        import pandas
    except ImportError:  # pragma: no cover - depends on the installation
        raise ExportKBError("what-if tables need pandas (fix: pip install 'exportkb[whatif]')") from None
    return pandas


# ------------------------------------------------------------------ scenarios
def axis_values(kb: KnowledgeBase, axis: str, values: Any, case: Case | None = None) -> list[Any]:
    """The values of one axis: a list, a range, a scalar, or ``"ALL"`` for an enumerated field.

    ``to=ALL`` for an export or reexport is every KB country except the one the
    items leave from (an export leaves its country; the loader rejects from == to).
    """
    leaf = axis.rsplit(".", 1)[-1]
    if isinstance(values, str) and values == ALL:
        if axis == "to" and case is not None and case.transaction != "transfer_in_country":
            return sorted(c for c in kb.countries if c != case.from_)
        if leaf in _COUNTRY_FIELDS:
            return sorted(kb.countries)
        if leaf in _VOCAB:
            return list(kb.values(_VOCAB[leaf]))
        raise ExportKBError(f"sweep axis {axis}: ALL is only defined for countries and enumerated fields "
                            f"(fix: list the values, e.g. --vary {axis}=1,2,3)")
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        return [values]
    out = list(values)
    if not out:
        raise ExportKBError(f"sweep axis {axis}: no values (fix: give at least one value)")
    return out


def _set(data: dict, axis: str, value: Any) -> None:
    """Write *value* at *axis* into case data (a dict from ``Case.model_dump``)."""
    parts = axis.split(".")
    head = parts[0]
    if len(parts) == 1 and head in _CASE_FIELDS:
        data[head] = value
        return
    if len(parts) == 1 and head in _ITEM_FIELDS:
        for item in data["items"]:
            item[head] = value
        return
    if len(parts) == 2 and head in _NESTED and parts[1] in _NESTED[head]:
        data[head][parts[1]] = value
        return
    if head.startswith(("items", "parties")):
        kind = "items" if head.startswith("items") else "parties"
        fields = _ITEM_FIELDS if kind == "items" else _PARTY_FIELDS
        rows = data[kind]
        if "[" in head and head.endswith("]") and len(parts) == 2:
            try:
                row = rows[int(head[head.index("[") + 1:-1])]
            except (ValueError, IndexError):
                raise ExportKBError(f"sweep axis {axis}: no such {kind[:-1]} (fix: index from 0 to {len(rows) - 1})") from None
            leaf = parts[1]
        elif head == kind and len(parts) == 3:
            match = [r for r in rows if r["id"] == parts[1]]
            if not match:
                raise ExportKBError(f"sweep axis {axis}: no {kind[:-1]} with id {parts[1]!r} "
                                    f"(fix: one of {', '.join(r['id'] for r in rows)})")
            row, leaf = match[0], parts[2]
        else:
            raise ExportKBError(f"sweep axis {axis}: write {kind}[N].FIELD or {kind}.ID.FIELD")
        if leaf not in fields:
            raise ExportKBError(f"sweep axis {axis}: {leaf!r} is not a field of {kind} (fix: one of {', '.join(sorted(fields))})")
        row[leaf] = value
        return
    raise ExportKBError(
        f"sweep axis {axis!r} is not a case field (fix: one of {', '.join(sorted(_CASE_FIELDS))}; an item field "
        f"({', '.join(sorted(_ITEM_FIELDS))}) applies to every item; usage_this_year.X; knowledge.X; "
        "items[N].FIELD; parties.ID.FIELD)")


def case_data(case: Case) -> dict:
    """The case as plain data (by alias, without `expect`), ready to modify and re-validate."""
    return case.model_dump(by_alias=True, exclude={"expect"})


def scenarios(case: Case, kb: KnowledgeBase, axes: Mapping[str, Any], move_parties: bool = True
              ) -> Iterator[tuple[dict[str, Any], Case]]:
    """Every combination of the axes' values, as (axis values, validated scenario case).

    With *move_parties*, varying ``to`` moves the parties located at the base
    case's destination along with it (their location, and their headquarters and
    ultimate parent where those were the destination too): "the same deal, in
    another country". Set it False to move only the destination.
    """
    if not axes:
        raise ExportKBError("a sweep needs at least one axis (fix: e.g. to='ALL' or --vary to=ALL)")
    names = list(axes)
    grids = [axis_values(kb, a, axes[a], case) for a in names]
    base = case_data(case)
    for n, combo in enumerate(itertools.product(*grids)):
        data = copy.deepcopy(base)
        data["case"] = f"{case.case}#{n}"
        values = dict(zip(names, combo))
        for axis, value in values.items():
            if axis == "to" and move_parties:
                _move_parties(data, case.to, value)
            _set(data, axis, value)
        label = ", ".join(f"{a}={v}" for a, v in values.items())
        yield values, case_from_data(data, kb, source=f"{case.source or case.case} [sweep {label}]")


def _move_parties(data: dict, old: str, new: str) -> None:
    for p in data["parties"]:
        if p["country"] == old:
            p["country"] = new
            for key in ("headquarters", "ultimate_parent_headquarters"):
                if p.get(key) == old:
                    p[key] = new


def as_of(case: Case, date: dt.date | str, kb: KnowledgeBase) -> Case:
    """The case re-dated to *date*: the KB is dated (kb/time.lp, dated params and groups),
    so evaluating "under the rules in force on D" is exactly solving the case as if it happened on D."""
    data = case_data(case)
    data["date"] = date
    return case_from_data(data, kb, source=f"{case.source or case.case} [as of {date}]")


# ------------------------------------------------------------------ solving
def determine(cases: Sequence[Case], kb: KnowledgeBase, reforms: Sequence[str] = (),
              options: SolveOptions | None = None, progress: ProgressFn | None = None,
              cache: ReformCache | None = None) -> list[Determination]:
    """Determine *cases* under *reforms* plus each case's own ``reform:`` list.

    Cases sharing a combination of reforms are solved together in batches; the
    result is in input order.
    """
    cache = cache or ReformCache(kb, options)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, c in enumerate(cases):
        groups.setdefault(reform_names(reforms, c.reform), []).append(i)
    out: list[Determination | None] = [None] * len(cases)
    done = 0
    for names, idx in groups.items():
        solver = cache.solver(names)
        for i, det in zip(idx, solver.determine_many(cases[i] for i in idx)):
            out[i] = det
            done += 1
            if progress:
                progress(done, len(cases))
    return out  # type: ignore[return-value]


def outcome(det: Determination, it: ItemDetermination) -> str:
    """A one-phrase summary of an item's determination, for tables and colors (not law)."""
    if it.license_required is None:  # held: e.g. an unresolved potential Entity List match
        return "unknown: resolve before export"
    if not det.in_scope and not it.license_required:
        return "out of scope"
    if not it.license_required:
        return "no license required"
    if it.exceptions_available:  # license exceptions and, where the KB lists them, Data Center VEU routes
        return "authorized: " + "/".join(it.exceptions_available)
    if it.exceptions_conditional:  # an eligibility fact the case leaves open (e.g. 740.27(a)(1) designer): never "authorized"
        return "conditional: " + "/".join(dict.fromkeys(c.exception for c in it.exceptions_conditional)) + " (resolve before export)"
    if it.license_review_policy in ("presumption_of_denial", "policy_of_denial"):
        return "license required, " + it.license_review_policy.replace("_", " ")
    return "license required" if it.license_required_enforced else "license required (not enforced)"


def determination_rows(det: Determination, extra: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """One flat row per item: the determination's fields, lists joined with ', ', figures as columns."""
    rows = []
    figures: dict[str, Any] = {}
    for name, value in det.figures.items():
        if isinstance(value, dict):
            for key, v in value.items():
                figures[f"figure.{name}.{key}"] = v
        else:
            figures[f"figure.{name}"] = value
    for item_id, it in det.items.items():
        row: dict[str, Any] = dict(extra or {})
        row.update({
            "scenario": det.case, "date": det.date, "item": item_id, "eccn": it.eccn, "in_scope": det.in_scope,
            "license_required": it.license_required,
            "license_required_enforced": it.license_required_enforced,
            "requirements": ", ".join(r.id for r in it.requirements),
            "exceptions_available": ", ".join(it.exceptions_available),
            "exceptions_conditional": ", ".join(f"{c.exception} ({c.condition})" for c in it.exceptions_conditional),
            "presumption_of_denial": it.presumption_of_denial,
            "license_review_policy": it.license_review_policy,
            "license_review_policy_cite": it.license_review_policy_cite,
            "red_flags": ", ".join(det.red_flags),
            "obligations": ", ".join(it.obligations + det.obligations),
            "outcome": outcome(det, it),
        })
        row.update(figures)
        rows.append(row)
    return rows


def sweep(case: Case, kb: KnowledgeBase | None = None, *, axes: Mapping[str, Any] | None = None,
          reforms: Sequence[str] = (), move_parties: bool = True, chunk_size: int = SWEEP_CHUNK,
          progress: ProgressFn | None = None, **more_axes: Any):
    """Determinations over a grid: one row per scenario x item (a pandas DataFrame).

    Axes come as keywords (``to="ALL", end_use=[...], tpp=range(0, 50001, 500)``)
    and/or in *axes* for dotted paths (``{"usage_this_year.lpp_tpp": [...]}``).
    An item field applies to every item; see :func:`scenarios` for ``to``.
    """
    pd = require_pandas()
    kb = kb or KnowledgeBase.load()
    all_axes = dict(axes or {})
    all_axes.update(more_axes)
    pairs = list(scenarios(case, kb, all_axes, move_parties))
    dets = determine([c for _, c in pairs], kb, reforms, SolveOptions(chunk_size=chunk_size), progress)
    rows = [r for (values, _), det in zip(pairs, dets) for r in determination_rows(det, values)]
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ comparing
@dataclass
class Change:
    """One determination that differs between the two sides of a comparison."""

    case: str
    item: str | None  # None for case-level determinations (red flags, dates...)
    field: str
    before: Any
    after: Any


@dataclass
class CaseComparison:
    """Everything that changed for one case, with the atoms (and, when available, the proofs) behind it."""

    case: str
    source: str
    before: str  # what the "before" side is, e.g. "2025-06-01" or "as enacted"
    after: str
    changes: list[Change]
    atoms_removed: list[str] = field(default_factory=list)
    atoms_added: list[str] = field(default_factory=list)
    rules_removed: list[str] = field(default_factory=list)  # ids of KB rules that fired only before
    rules_added: list[str] = field(default_factory=list)    # ... only after
    rules_note: str = ""  # why the fired-rule diff is missing, when it is
    # the two sides as solved, for proofs on demand (not part of the JSON)
    sides: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {k: (v if k != "changes" else [vars(ch) for ch in v]) for k, v in vars(self).items() if k != "sides"}


_ITEM_KEYS = ("eccn", "license_required", "license_required_enforced", "requirements", "exceptions_available",
              "presumption_of_denial", "license_review_policy", "license_review_policy_cite", "obligations",
              "classification_mismatch")
_CASE_KEYS = ("in_scope", "out_of_scope", "red_flags", "obligations", "dates")


def diff(before: Determination, after: Determination) -> list[Change]:
    """The determinations that differ (item by item, then case-level)."""
    b, a = before.to_json(), after.to_json()
    out: list[Change] = []
    for item in b["items"]:
        bi, ai = b["items"][item], a["items"].get(item, {})
        for key in _ITEM_KEYS:
            if bi.get(key) != ai.get(key):
                out.append(Change(before.case, item, key, bi.get(key), ai.get(key)))
    for key in _CASE_KEYS:
        if b[key] != a[key]:
            out.append(Change(before.case, None, key, b[key], a[key]))
    # Figures (TPP arithmetic, echoed parameters) are context, not determinations: a case
    # changes only if a determination does; its figures are then shown beside it.
    if out and b["figures"] != a["figures"]:
        out.append(Change(before.case, None, "figures", b["figures"], a["figures"]))
    return out


def compare(cases: Sequence[Case], kb: KnowledgeBase | None = None, *, reform: str | Sequence[str] | None = None,
            as_of_dates: Sequence[dt.date | str] | None = None, explain: bool = True,
            options: SolveOptions | None = None) -> list[CaseComparison]:
    """The cases whose determinations change, and exactly what changes.

    * ``reform=NAME`` (or a list): each case as it stands (with its own
      ``reform:`` list) against the same case with the reform(s) added; with one
      date in *as_of_dates*, both sides are re-dated to it.
    * ``as_of_dates=[D1, D2]``: the case re-dated to D1 against D2.

    Unchanged cases are never listed. *explain* adds the fired-rule diff and the
    proofs when the explanation API (``exportkb.explain``) is installed.
    """
    kb = kb or KnowledgeBase.load()
    reforms = [reform] if isinstance(reform, str) else list(reform or [])
    dates = list(as_of_dates or [])
    if not reforms and len(dates) != 2:
        raise ExportKBError("compare needs a reform, or two dates to compare (fix: --reform NAME or --as-of D1 --as-of D2)")
    if reforms and len(dates) > 1:
        raise ExportKBError("compare: with a reform give at most one date (fix: drop one --as-of)")
    if reforms:
        left = [as_of(c, dates[0], kb) if dates else c for c in cases]
        right = left
        labels = ("as enacted", "with " + " + ".join(reforms))
    else:
        left = [as_of(c, dates[0], kb) for c in cases]
        right = [as_of(c, dates[1], kb) for c in cases]
        labels = (str(dates[0]), str(dates[1]))
    cache = ReformCache(kb, options)
    dets_before = determine(left, kb, (), options, cache=cache)
    dets_after = determine(right, kb, reforms, options, cache=cache)
    out: list[CaseComparison] = []
    sides: list[tuple[Case, Case]] = []
    for case, lc, rc, b, a in zip(cases, left, right, dets_before, dets_after):
        changes = diff(b, a)
        if not changes:
            continue
        out.append(CaseComparison(case=case.case, source=case.source, before=labels[0], after=labels[1],
                                  changes=changes, atoms_removed=sorted(set(b.atoms) - set(a.atoms)),
                                  atoms_added=sorted(set(a.atoms) - set(b.atoms))))
        sides.append((lc, rc))
        out[-1].sides = (lc, reform_names((), lc.reform), rc, reform_names(reforms, rc.reform), cache)
    if explain and out:
        _explain(out, sides, cache, reforms)
    return out


def _explain(out: list[CaseComparison], sides: list[tuple[Case, Case]], cache: ReformCache,
             reforms: Sequence[str]) -> None:
    """Fill in the fired-rule diff when the explanation API is installed; otherwise the atom diff stands alone.

    One recording run per side and combination of reforms (not per case): recording costs a grounding.
    """
    try:
        from ..explain.record import rules_fired  # the explanation API, built in src/exportkb/explain/
    except ImportError:
        return
    fired: list[dict[str, set[str]]] = [{}, {}]
    try:
        for side in (0, 1):
            groups: dict[tuple[str, ...], list[Case]] = {}
            for pair in sides:
                c = pair[side]
                groups.setdefault(reform_names(reforms if side else (), c.reform), []).append(c)
            for names, cs in groups.items():
                for rid, ids in rules_fired(cache.solver(names).kb, cs).items():
                    for cid in ids:
                        fired[side].setdefault(cid, set()).add(rid)
    except Exception as exc:  # noqa: BLE001 - the optional explanation layer must not sink the comparison itself
        for cmp in out:
            cmp.rules_note = f"fired-rule diff unavailable ({type(exc).__name__}: {exc}); the atom diff is complete"
        return
    for cmp, (lc, rc) in zip(out, sides):
        before, after = fired[0].get(lc.case, set()), fired[1].get(rc.case, set())
        cmp.rules_removed = sorted(before - after)
        cmp.rules_added = sorted(after - before)


@dataclass
class ChangeProof:
    """One differing output atom, with its proof on each side (why it holds / why it does not)."""

    atom: str
    before: Any  # exportkb.explain.Proof
    after: Any


def change_proofs(cmp: CaseComparison, kb: KnowledgeBase, atoms: Sequence[str] | None = None,
                  limit: int = 3) -> list[ChangeProof]:
    """The proofs before and after for the atoms that changed (default: the first *limit* determinations).

    On the side where the atom holds it is a why-proof, on the other a why-not
    proof naming the condition that failed — built by the explanation API
    (``exportkb.explain``), on the KB of each side (reforms applied).
    """
    from ..explain import DETERMINATIONS, Explainer
    import clingo

    if not cmp.sides:
        raise ExportKBError(f"comparison of {cmp.case}: the solved sides are not kept (fix: use whatif.compare's result)")
    left, left_names, right, right_names, cache = cmp.sides
    changed = atoms if atoms is not None else [a for a in cmp.atoms_removed + cmp.atoms_added
                                               if a.split("(", 1)[0] in DETERMINATIONS][:limit]
    ex_before = Explainer(cache.solver(left_names).kb).case(left)
    ex_after = Explainer(cache.solver(right_names).kb).case(right)
    out = []
    for text in changed:
        sym = clingo.parse_term(text)  # an atom printed by the solver, case id first
        goal = clingo.Function(sym.name, list(sym.arguments[1:]))
        out.append(ChangeProof(text, ex_before.explain(goal, mode="auto"), ex_after.explain(goal, mode="auto")))
    return out


def comparisons_frame(comparisons: Iterable[CaseComparison]):
    """The changes of :func:`compare` as a DataFrame: one row per changed determination."""
    pd = require_pandas()
    rows = [{"case": c.case, "source": c.source, "before_side": c.before, "after_side": c.after,
             "item": ch.item, "field": ch.field, "before": ch.before, "after": ch.after}
            for c in comparisons for ch in c.changes]
    return pd.DataFrame(rows, columns=["case", "source", "before_side", "after_side", "item", "field", "before", "after"])
