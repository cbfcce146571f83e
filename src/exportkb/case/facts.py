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

    add("case")
    add("case_date", Number(date_int(case.date)))
    add("transaction", _constant(case.transaction))
    add("export_from", String(case.from_))
    add("destination", String(case.to))
    if case.ultimate_destination is not None:
        add("ultimate_destination", String(case.ultimate_destination))
    if case.end_use:
        add("end_use", _constant(case.end_use))
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

    usage, knowledge = case.usage_this_year, case.knowledge
    for key in type(usage).model_fields:  # the fields in order, as model_dump() gives them (without its cost)
        # a usage figure may reach 10^15: it reaches clingo as millions and units (exportkb.case.exact)
        high, low = divmod(getattr(usage, key), LIMB)
        add("usage", _constant(key), Number(high), Number(low))
    for key in type(knowledge).model_fields:
        value = getattr(knowledge, key)
        if value is not None:
            add("knows", _constant(key), String(value))
