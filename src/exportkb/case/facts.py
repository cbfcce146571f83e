"""Case → clingo facts, built only with clingo's symbol API.

User text (ids, names) becomes ``clingo.String`` — never program text — so a
party called ``x"). license_required(...`` is just a string. Enumerated values
become constants only after :mod:`exportkb.case.loader` checked them against the
KB's vocabulary. Every fact carries the case id first, so many cases can share
one grounding.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

from clingo import Function, Symbol
from clingo import Number as _Number
from clingo import String as _String

# Symbol construction is a foreign call (~10 µs); case files repeat the same
# countries, constants and numbers, so the pure constructors are memoised.
String = lru_cache(maxsize=8192)(_String)
Number = lru_cache(maxsize=8192)(_Number)
_constant = lru_cache(maxsize=1024)(lambda name: Function(name))

from .eccn import category as eccn_category, hts6, prefixes as eccn_prefixes
from .exact import LIMB
from .loader import mantissa_exponent
from .model import Case


def date_int(d) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def case_facts(case: Case, case_id: str | None = None) -> list[Symbol]:
    """All input facts of one case (see kb/inputs.lp for their meaning)."""
    f: list[Symbol] = []

    def adder(C: Symbol) -> Callable[..., None]:
        return lambda name, *args: f.append(Function(name, [C, *args]))

    emit_facts(case, case_id if case_id is not None else case.case, String, Number, _constant, adder)
    return f


def emit_facts(case: Case, case_id: str, String: Callable[[str], Any], Number: Callable[[int], Any],
               constant: Callable[[str], Any], adder: Callable[[Any], Callable[..., None]]) -> None:
    """Make every input fact of *case*: ``adder(C)`` gives ``add(name, *args)`` for facts ``name(C, args...)``.

    The one list of a case's facts, whatever builds the symbols: :func:`case_facts` (clingo
    ``Symbol`` objects) or :class:`exportkb.solve.fastclingo.FactWriter` (raw symbols straight into a
    backend, for batches). ``String``/``Number``/``constant`` make the argument symbols.
    """
    _constant = constant
    add = adder(String(case_id))
    if case.regime != "us_ear":
        # a foreign regime gets its own inputs only, so no EAR rule can fire on it (kb/inputs.lp)
        add("foreign_case", _constant(case.regime))
        add("foreign_case_date", Number(date_int(case.date)))
        add("foreign_export_from", String(case.from_))
        add("foreign_destination", String(case.to))
        for item in case.items:
            I = String(item.id)
            add("foreign_item", I)
            if item.technology is not None:
                add("item_technology", I, _constant(item.technology))
            for name, value in (item.technology_specs or {}).items():
                add("item_spec", I, _constant(name), Number(int(value * 1000)))
        return

    add("case")
    add("case_date", Number(date_int(case.date)))
    add("transaction", _constant(case.transaction))
    add("export_from", String(case.from_))
    add("destination", String(case.to))
    if case.ultimate_destination is not None:
        add("ultimate_destination", String(case.ultimate_destination))
    if case.end_use:
        add("end_use", _constant(case.end_use))
    if case.early_compliance:  # kb/requirements/transition.lp: the IFR followed as a whole in the window
        add("early_compliance")
    if case.government_commitment_percent:
        add("government_commitment_percent", Number(case.government_commitment_percent))

    for item in case.items:
        I = String(item.id)
        add("item", I)
        kind = item.kind
        if kind is None and item.eccn is None:
            kind = "model_weights" if item.training_operations is not None else "ic"
        if kind is not None:
            add("item_kind", I, _constant(kind))
        if item.eccn is not None:
            add("item_eccn", I, String(item.eccn))
            for within in eccn_prefixes(item.eccn):  # 4A906.a.1 -> 4A906, 4A906.a, 4A906.a.1 (kb/coverage.lp)
                add("item_eccn_within", I, String(within))
            cat = eccn_category(item.eccn)
            if cat is not None:
                add("item_eccn_category", I, Number(cat))
        if item.for_eccn is not None:
            for within in eccn_prefixes(item.for_eccn):
                add("item_for_within", I, String(within))
        if item.hts is not None:
            code = hts6(item.hts)
            if code is not None:
                add("item_hts6", I, String(code))
        add("item_quantity", I, Number(item.quantity))
        if item.tpp is not None:
            add("item_tpp", I, Number(int(item.tpp)))
        if item.performance_density is not None:
            add("item_pd_e4", I, Number(int(item.performance_density * 10000)))
        if item.designed_for_datacenter:
            add("item_datacenter", I)
        if item.designed_for_datacenter is False:
            add("item_not_datacenter", I)
        if item.training_operations is not None:
            m, e = mantissa_exponent(item.training_operations)
            add("item_training_ops", I, Number(m), Number(e))
        if item.open_weights:
            add("item_published", I)
        if item.below_published_frontier:
            add("item_below_published_frontier", I)
        if item.designer_approved is True:
            add("item_designer_approved", I)
        if item.designer_approved is False:
            add("item_designer_not_approved", I)
        if item.foreign_produced:
            add("item_foreign_produced", I)
        if item.fdp_product_scope:
            add("item_fdp_product_scope", I)
        if item.incorporated_into_non_ear99:
            add("item_incorporated_into_non_ear99", I)
        if item.dram_bandwidth_gbps is not None:
            add("item_dram_bandwidth", I, Number(item.dram_bandwidth_gbps))
        if item.commercially_available_in_us:
            add("item_commercially_available_us", I)
        if item.designer_headquarters is not None:
            add("item_designer_hq", I, String(item.designer_headquarters))
        if item.product is not None:
            # compared with the GP10 guidance's named ICs (kb/guidance/may2025.lp) in lower case, single-spaced
            add("item_product", I, String(" ".join(item.product.lower().split())))

    for party in case.parties:
        P = String(party.id)
        hq = party.headquarters or party.country
        parent = party.ultimate_parent_headquarters or hq
        add("party_role", P, _constant(party.role))
        add("party_country", P, String(party.country))
        add("party_hq", P, String(hq))
        add("party_parent_hq", P, String(parent))
        if party.government_controlled:
            add("party_government_controlled", P)
        if party.individual:
            add("party_individual", P)
        if party.distributor:
            add("party_distributor", P)
        if party.veu != "none":
            add("party_veu", P, _constant(party.veu))
        if party.meets_supp10_security:
            add("party_supp10_security", P)
        if party.same_veu_as is not None:
            add("party_same_veu", P, String(party.same_veu_as))
        if party.employer is not None:
            add("party_employer", P, String(party.employer))
        if party.permanent_regular_employee:
            add("party_permanent_regular_employee", P)
        if party.d5_majority_owned is True:
            add("party_d5_majority_owned", P)
        if party.d5_majority_owned is False:
            add("party_d5_not_majority_owned", P)
        if party.employed_since is not None:
            add("party_employed_since", P, Number(date_int(party.employed_since)))
        if party.prohibited_person is True:
            add("party_prohibited", P)
        if party.prohibited_person is False:
            add("party_not_prohibited", P)
        _party_identity_facts(party, P, String, Number, _constant, add)
    _screening_facts(case, String, Number, _constant, add)

    usage, knowledge = case.usage_this_year, case.knowledge
    for key in type(usage).model_fields:  # the fields in order, as model_dump() gives them (without its cost)
        # a usage figure may reach 10^15: it reaches clingo as millions and units (exportkb.case.exact)
        high, low = divmod(getattr(usage, key), LIMB)
        add("usage", _constant(key), Number(high), Number(low))
    for key in type(knowledge).model_fields:
        value = getattr(knowledge, key)
        if value is True:  # a yes/no fact the exporter knows (G7 red-flag indicators)
            add("knows", _constant(key), String("yes"))
        elif value is False:  # stated "no": kb/guidance/ tells it from a fact the case does not state
            add("knows_not", _constant(key))
        elif value is not None:
            add("knows", _constant(key), String(value))
    certs = case.h200_certifications
    for key in type(certs).model_fields:
        if getattr(certs, key):
            add("h200_certification", _constant(key))


def _party_identity_facts(party: Any, P: Any, String: Callable[[str], Any], Number: Callable[[int], Any],
                          constant: Callable[[str], Any], add: Callable[..., None]) -> None:
    """Name, aliases, address, owners and stated Entity List status (kb/parties/entity_list.lp).

    Percentages reach clingo in hundredths (the loader allows at most 2 decimals), so 50 % is 5000."""
    if party.name is not None:
        add("party_name", P, String(party.name))
    for alias in party.aliases:
        add("party_alias", P, String(alias))
    if party.address is not None:
        a = party.address
        add("party_address", P, String(a.street), String(a.city), String(a.postal_code), String(a.country))
    for owner in party.owned_by:
        pct = Number(int(owner.percent * 100))
        if owner.party is not None:
            add("party_owned_by_party", P, String(owner.party), pct)
        else:
            add("party_owned_by_name", P, String(owner.name or ""), pct)
    status = party.entity_list
    if status is None:
        return
    if not status.listed:
        add("party_el_stated_not_listed", P)
        return
    add("party_el_stated_listed", P)
    add("party_el_stated_scope", P, constant(status.scope or "all_items"))
    if status.entry is not None:
        add("party_el_stated_entry", P, String(status.entry))
    if status.review_policy is not None:
        add("party_el_stated_policy", P, constant(status.review_policy))
    for n in status.footnotes:
        add("party_el_stated_footnote", P, Number(n))


def _screening_facts(case: Case, String: Callable[[str], Any], Number: Callable[[int], Any],
                     constant: Callable[[str], Any], add: Callable[..., None]) -> None:
    """Screening hits as facts: the hit, and the entry's attributes as the user's list gives them."""
    if case.screening is None:
        return
    from .parties import requirement_scope, review_policies  # late: parties imports the model only

    add("screened")
    entries: dict[str, Any] = {}
    for hit in case.screening:
        add("screening_hit", String(hit.party_id), String(hit.entry_id), constant(hit.matched_on), constant(hit.kind))
        entries.setdefault(hit.entry_id, hit)
    for entry_id, hit in entries.items():
        E = String(entry_id)
        add("screening_entry", E, String(hit.entry_name), String(hit.source), String(hit.federal_register_notice))
        scope = requirement_scope(hit.license_requirement)
        if scope is not None:
            add("screening_entry_scope", E, constant(scope))
        for policy in review_policies(hit.license_policy):
            add("screening_entry_policy", E, constant(policy))
