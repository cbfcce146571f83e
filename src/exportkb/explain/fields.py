"""Where each case input fact comes from in the case file — the one mapping from
input predicate (kb/inputs.lp) to case field path (docs/case-format.md).

Why here and not in facts.py: facts.py builds the facts; this module only
answers "which field of the file stated this?", for proofs and for
counterfactuals (which change those fields). If facts.py gains an input, add
its field here; tests/test_explain.py checks every ``%input`` predicate is mapped.
"""
from __future__ import annotations

from dataclasses import dataclass

import clingo

from ..case.model import Case

# predicate -> (collection, field). collection: "" (top level), "items", "parties", "usage", "knowledge",
# "h200" (h200_certifications.<name>).
INPUT_FIELDS: dict[str, tuple[str, str]] = {
    "case": ("", "case"),
    "case_date": ("", "date"),
    "transaction": ("", "transaction"),
    "export_from": ("", "from"),
    "destination": ("", "to"),
    "ultimate_destination": ("", "ultimate_destination"),
    "end_use": ("", "end_use"),
    "government_commitment_percent": ("", "government_commitment_percent"),
    "item": ("items", "id"),
    "item_kind": ("items", "kind"),
    "item_eccn": ("items", "eccn"),
    "item_quantity": ("items", "quantity"),
    "item_tpp": ("items", "tpp"),
    "item_pd_e4": ("items", "performance_density"),
    "item_datacenter": ("items", "designed_for_datacenter"),
    "item_not_datacenter": ("items", "designed_for_datacenter"),
    "item_training_ops": ("items", "training_operations"),
    "item_published": ("items", "open_weights"),
    "item_below_published_frontier": ("items", "below_published_frontier"),
    "item_designer_approved": ("items", "designer_approved"),
    "item_designer_not_approved": ("items", "designer_approved"),
    "item_foreign_produced": ("items", "foreign_produced"),
    "item_fdp_product_scope": ("items", "fdp_product_scope"),
    "item_incorporated_into_non_ear99": ("items", "incorporated_into_non_ear99"),
    "item_eccn_category": ("items", "eccn"),  # the category is the ECCN's first character (case.eccn)
    "item_hts6": ("items", "hts"),
    "item_eccn_within": ("items", "eccn"),  # the entry and paragraphs of the declared ECCN (case.eccn)
    "item_for_within": ("items", "for_eccn"),
    "item_technology": ("items", "technology"),
    "item_spec": ("items", "technology_specs"),
    "foreign_item": ("items", "id"),
    "foreign_case_date": ("", "date"),
    "foreign_export_from": ("", "from"),
    "foreign_destination": ("", "to"),
    "foreign_case": ("", "regime"),
    "party": ("parties", "id"),
    "party_role": ("parties", "role"),
    "party_country": ("parties", "country"),
    "party_hq": ("parties", "headquarters"),
    "party_parent_hq": ("parties", "ultimate_parent_headquarters"),
    "party_government_controlled": ("parties", "government_controlled"),
    "party_individual": ("parties", "individual"),
    "party_distributor": ("parties", "distributor"),
    "party_veu": ("parties", "veu"),
    "party_employed_since": ("parties", "employed_since"),
    "party_not_prohibited": ("parties", "prohibited_person"),
    "party_prohibited": ("parties", "prohibited_person"),
    "party_supp10_security": ("parties", "meets_supp10_security"),
    "party_same_veu": ("parties", "same_veu_as"),
    "party_employer": ("parties", "employer"),
    "party_permanent_regular_employee": ("parties", "permanent_regular_employee"),
    "item_dram_bandwidth": ("items", "dram_bandwidth_gbps"),
    "item_commercially_available_us": ("items", "commercially_available_in_us"),
    "party_d5_majority_owned": ("parties", "d5_majority_owned"),
    "party_d5_not_majority_owned": ("parties", "d5_majority_owned"),
    "h200_certification": ("h200", ""),
    "party_name": ("parties", "name"),
    "party_alias": ("parties", "aliases"),
    "party_address": ("parties", "address"),
    "party_owned_by_party": ("parties", "owned_by"),
    "party_owned_by_name": ("parties", "owned_by"),
    "party_el_stated_listed": ("parties", "entity_list.listed"),
    "party_el_stated_not_listed": ("parties", "entity_list.listed"),
    "party_el_stated_entry": ("parties", "entity_list.entry"),
    "party_el_stated_scope": ("parties", "entity_list.scope"),
    "party_el_stated_policy": ("parties", "entity_list.review_policy"),
    "party_el_stated_footnote": ("parties", "entity_list.footnotes"),
    "screened": ("", "screening"),
    "screening_hit": ("", "screening"),
    "screening_entry": ("", "screening"),
    "screening_entry_scope": ("", "screening"),
    "screening_entry_policy": ("", "screening"),
    "usage": ("usage", ""),
    "knows": ("knowledge", ""),
    "knows_not": ("knowledge", ""),
    "item_designer_hq": ("items", "designer_headquarters"),
    "item_product": ("items", "product"),
    "early_compliance": ("", "early_compliance"),
}
#: the case-file mapping of each nested collection (its keys are the first argument of the fact)
NESTED_BASES = {"usage": "usage_this_year", "knowledge": "knowledge", "h200": "h200_certifications"}
# A field left out of the file takes its value from another field (model.py defaults).
FALLBACKS = {"headquarters": ("country",), "ultimate_parent_headquarters": ("headquarters", "country")}


@dataclass(frozen=True)
class FieldRef:
    """A case-file field: its path, and the file and line where the loader saw it."""

    path: str
    file: str
    line: int | None
    stated: bool  # False: the field is absent and a default (or a fallback field) gave the value

    def to_json(self) -> dict:
        return {"path": self.path, "file": self.file, "line": self.line, "stated": self.stated}


def _ident(sym: clingo.Symbol) -> str:
    if sym.type == clingo.SymbolType.String:
        return sym.string
    if sym.type == clingo.SymbolType.Function and not sym.arguments:
        return sym.name
    return str(sym)


def field_path(case: Case, name: str, args: list[clingo.Symbol | None]) -> str | None:
    """The field path of input predicate *name* with arguments *args* (without the case id).

    An argument may be None (unknown, in a pattern): the path then uses ``[*]``.
    """
    where = INPUT_FIELDS.get(name)
    if where is None:
        return None
    coll, fld = where
    if coll == "":
        return fld
    if coll in ("usage", "knowledge", "h200"):
        base = NESTED_BASES[coll]
        return f"{base}.{_ident(args[0])}" if args and args[0] is not None else f"{base}.*"
    ids = [it.id for it in case.items] if coll == "items" else [p.id for p in case.parties]
    k = "*"
    if args and args[0] is not None and _ident(args[0]) in ids:
        k = str(ids.index(_ident(args[0])))
    return f"{coll}[{k}].{fld}"


#: the input predicates a screening hit states (their first argument, after the case id, names the
#: party for ``screening_hit`` and the entry for the others)
SCREENING_INPUTS = frozenset({"screening_hit", "screening_entry", "screening_entry_scope", "screening_entry_policy"})


def list_ref(case: Case, name: str, args: list[clingo.Symbol | None]) -> dict[str, str] | None:
    """The screening list a screening fact comes from: ``{"file", "version", "entry"}`` of the hit that
    states it (the first hit of the entry, as the facts are built), or None when the hit was written by
    hand (no list file) or the fact is not a screening fact.

    Why: a step resting on a hit rests on the list file the screener read (and its SHA-256), not on a
    field of the case file; the proof must say which list, so a reader can check the entry in it."""
    if name not in SCREENING_INPUTS or not case.screening or not args or args[0] is None:
        return None
    hits = case.screening
    if name == "screening_hit":
        if len(args) < 2 or args[1] is None:
            return None
        party, entry = _ident(args[0]), _ident(args[1])
        hit = next((h for h in hits if h.party_id == party and h.entry_id == entry), None)
    else:
        entry = _ident(args[0])
        hit = next((h for h in hits if h.entry_id == entry), None)
    if hit is None or not hit.list_file:
        return None
    return {"file": hit.list_file, "version": hit.list_version, "entry": hit.entry_id}


def field_ref(case: Case, name: str, args: list[clingo.Symbol | None]) -> FieldRef | None:
    path = field_path(case, name, args)
    if path is None:
        return None
    line = case.line_of(path)
    stated = line is not None
    if line is None:
        parent, _, fld = path.rpartition(".")
        for alt in FALLBACKS.get(fld, ()):
            alt_line = case.line_of(f"{parent}.{alt}")
            if alt_line is not None:
                line = alt_line
                break
        probe = path
        while line is None and probe:
            probe = probe.rpartition(".")[0] if "." in probe else ""
            line = case.line_of(probe) if probe else None
    return FieldRef(path, case.source, line, stated)
