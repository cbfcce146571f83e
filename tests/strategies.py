"""Hypothesis strategies for VALID case files (as the dicts a YAML/JSON file parses to).

The vocabulary (countries, ECCNs, end uses, roles...) is drawn from the KB
itself, so the strategies follow the KB as it grows. Numbers are bounded so
that no sum the loader checks can exceed clingo's 32-bit integers: the point is
to explore the KB's logic, not the loader's overflow messages (those are in
tests/cases/bad/).
"""
from __future__ import annotations

import datetime as dt
import os
from typing import Any

from hypothesis import HealthCheck
from hypothesis import strategies as st

from exportkb.kb import KnowledgeBase

#: Hypothesis settings shared by the property tests: no deadline (solving is slow under load),
#: derandomized in CI unless EXPORTKB_FUZZ_RANDOM is set (release checks).
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                derandomize=os.environ.get("EXPORTKB_FUZZ_RANDOM") is None)


def examples(default: int) -> int:
    """How many examples a property runs: EXPORTKB_FUZZ_EXAMPLES, else *default*."""
    return int(os.environ.get("EXPORTKB_FUZZ_EXAMPLES", str(default)))

# Destinations where the rule's outcomes differ most; mixed with the whole list.
INTERESTING = ("US", "DE", "NO", "GB", "IL", "AE", "SA", "IN", "MY", "SG", "VN", "CN", "MO", "HK", "RU", "IR", "KP")

# Text that means something to clingo, to ASP parsers or to terminals.
ASP_BITS = ('"', "\\", ").", ":-", "#include", "%", "*%", "%*", "\n", "\r\n", "\t", "\x00", "not ", "#show",
            "license_required(", "\"). license_required(\"#0\", \"x", "{", "}", "'", ",", "_", "X", "#0",
            "\u202e", "\ufeff", "\U0001F600", "\u0301", " ")

DATES = st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31)).map(dt.date.isoformat)


def weird_text(allow_nul: bool = True) -> st.SearchStrategy[str]:
    """Non-empty text from the whole Unicode range (no lone surrogates) and ASP syntax."""
    bits = [b for b in ASP_BITS if allow_nul or "\x00" not in b]
    chars = st.characters(exclude_categories=("Cs",), exclude_characters="" if allow_nul else "\x00")
    return st.one_of(
        st.text(chars, min_size=1, max_size=12),
        st.lists(st.sampled_from(bits), min_size=1, max_size=5).map("".join),
        st.tuples(st.text(chars, max_size=4), st.sampled_from(bits), st.text(chars, max_size=4)).map("".join),
    ).filter(bool)


class Vocabulary:
    """The values a case may use, read from the KB once."""

    def __init__(self, kb: KnowledgeBase):
        self.countries = sorted(kb.countries)
        self.interesting = [c for c in INTERESTING if c in kb.countries]
        self.eccns = sorted(kb.eccns)
        self.transactions = kb.values("transaction_kind")
        self.end_uses = kb.values("end_use_value")
        self.roles = kb.values("party_role_value")
        self.veus = kb.values("veu_value")
        self.kinds = kb.values("item_kind_value")

    def country(self) -> st.SearchStrategy[str]:
        return st.one_of(st.sampled_from(self.interesting), st.sampled_from(self.countries))


def _optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


@st.composite
def item_dicts(draw, voc: Vocabulary, item_id: str) -> dict[str, Any]:
    shape = draw(st.sampled_from(("eccn", "specs", "weights")))
    item: dict[str, Any] = {"id": item_id, "quantity": draw(st.integers(0, 5000))}
    if shape == "eccn":
        item["eccn"] = draw(st.sampled_from(voc.eccns))
        item["tpp"] = draw(_optional(st.integers(0, 40000)))
    elif shape == "specs":
        item["kind"] = draw(st.sampled_from([k for k in voc.kinds if k != "model_weights"] or voc.kinds))
        item["tpp"] = draw(st.one_of(st.integers(0, 40000), st.sampled_from([1599, 1600, 2399, 2400, 4799, 4800])))
        pd_e4 = draw(_optional(st.one_of(st.integers(0, 200000), st.sampled_from([15999, 16000, 31999, 32000, 59199, 59200]))))
        item["performance_density"] = None if pd_e4 is None else f"{pd_e4 // 10000}.{pd_e4 % 10000:04d}"
        item["designed_for_datacenter"] = draw(_optional(st.booleans()))
        item["designer_approved"] = draw(_optional(st.booleans()))
    else:
        item["kind"] = "model_weights"
        mantissa = draw(st.one_of(st.integers(1, 999_999_999), st.just(1)))
        item["training_operations"] = f"{mantissa}e{draw(st.integers(15, 30))}"
        item["open_weights"] = draw(st.booleans())
        item["below_published_frontier"] = draw(st.booleans())
    for flag in ("foreign_produced", "fdp_product_scope", "incorporated_into_non_ear99"):
        item[flag] = draw(st.booleans())
    return _drop_none(item)


@st.composite
def tech_item_dicts(draw, voc: Vocabulary, item_id: str) -> dict[str, Any]:
    """An item a deemed export or reexport can release: an ECCN of product group D or E (4E091, the
    September 2024 rule's 3D901/3E901/4D906/4E906 ...) or model weights given by their specs."""
    tech = [e for e in voc.eccns if len(e) > 1 and e[1] in "DE"]
    if draw(st.booleans()) and tech:
        item: dict[str, Any] = {"id": item_id, "quantity": draw(st.integers(0, 5000)), "eccn": draw(st.sampled_from(tech))}
    else:
        item = draw(item_dicts(voc, item_id).filter(lambda i: i.get("kind") == "model_weights"))
    return _drop_none(item)


@st.composite
def party_dicts(draw, voc: Vocabulary, party_id: str) -> dict[str, Any]:
    party = {
        "id": party_id,
        "role": draw(st.sampled_from(voc.roles)),
        "country": draw(voc.country()),
        "headquarters": draw(_optional(voc.country())),
        "ultimate_parent_headquarters": draw(_optional(voc.country())),
        "government_controlled": draw(st.booleans()),
        "individual": draw(st.booleans()),
        "distributor": draw(st.booleans()),
        "veu": draw(st.sampled_from(voc.veus)),
        "meets_supp10_security": draw(st.booleans()),
    }
    return _drop_none(party)


USAGE_KEYS = ("lpp_tpp", "country_allocation_tpp", "aia_cumulative_tpp", "veu_installed_tpp", "veu_total_tpp",
              "veu_supp5a_tpp", "veu_us_tpp")


#: The United States as 15 CFR 772.1 defines it (the loader refuses a reexport from one of them).
US_PARTS = frozenset({"US", "PR", "GU", "VI", "AS", "MP", "UM"})


@st.composite
def case_dicts(draw, voc: Vocabulary, max_items: int = 3, max_parties: int = 4) -> dict[str, Any]:
    """A valid case: any KB country, ECCN or specs, any party structure, dates 2024-2027, usage values."""
    n_items = draw(st.integers(1, max_items))
    n_parties = draw(st.integers(0, max_parties))
    to = draw(voc.country())
    transaction = draw(st.sampled_from(voc.transactions))
    deemed = transaction.startswith("deemed_")
    if transaction in ("export", "reexport", "deemed_export", "deemed_reexport"):  # one that crosses a border
        origin = draw(st.one_of(st.just("US"), voc.country()).filter(lambda x: x != to))
        if transaction in ("reexport", "deemed_reexport"):  # 772.1: from a part of the United States it is an export
            origin = draw(voc.country().filter(lambda x: x != to and x not in US_PARTS))
    else:  # transfer_in_country, service: within one country
        origin = to
    usage = {k: draw(st.one_of(st.just(0), st.integers(0, 500_000_000))) for k in USAGE_KEYS
             if draw(st.booleans())}
    case = {
        "case": "plain",
        "date": draw(DATES),
        "transaction": transaction,
        "from": origin,
        "to": to,
        "end_use": draw(_optional(st.sampled_from(voc.end_uses))),
        "government_commitment_percent": draw(st.one_of(st.just(0), st.integers(0, 100))),
        # a deemed release releases only software or technology (734.13(b)): D/E ECCNs or model weights
        "items": [draw(tech_item_dicts(voc, f"i{n}") if deemed else item_dicts(voc, f"i{n}")) for n in range(n_items)],
        "parties": [draw(party_dicts(voc, f"p{n}")) for n in range(n_parties)],
        "usage_this_year": usage,
        "knowledge": _drop_none({"iaas_training_4e091_for_hq": draw(_optional(voc.country()))}),
    }
    return _drop_none(case)
