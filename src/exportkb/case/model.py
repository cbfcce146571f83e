"""The case file, version 1: plain data classes validated by pydantic.

A case reads like the facts of a transaction as a compliance officer writes
them down; nothing here is about the solver. Values that the knowledge base
enumerates (countries, ECCNs, end uses, roles...) are plain strings here and
are checked against the KB's own vocabulary by :mod:`exportkb.case.loader`, so the
list of accepted values lives in `kb/` only. See docs/case-format.md.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field

#: Cases solved together in one grounding are told apart by an internal key, the first argument of
#: every case atom: ``"#0"``, ``"#1"``, … (solver, recorder, compact proofs). Item and party ids of
#: that form would be mistaken for the case, so the loader refuses them (``CASE_KEY_RE``).
CASE_KEY_RE = re.compile(r"#[0-9]+\Z")


def case_keys(n: int) -> list[str]:
    """The internal keys of *n* cases solved in one grounding."""
    return [f"#{i}" for i in range(n)]

CASE_FORMAT_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Item(_Strict):
    """One line of the shipment: chips, computers, or model weights."""

    id: str = Field(min_length=1, description="Identifier of the item, unique within the case.")
    kind: Optional[str] = Field(None, description="ic | computer | model_weights | other. Needed when no ECCN is given.")
    eccn: Optional[str] = Field(None, description="ECCN as written in the CCL (3A090.a, 4A090.b, 5A992.z.1, 4E091, EAR99). Omit to let the KB classify from the specs.")
    quantity: int = Field(1, ge=0, description="Number of units shipped.")
    tpp: Optional[Decimal] = Field(None, ge=0, description="Per-unit 'total processing performance' (a whole number).")
    performance_density: Optional[Decimal] = Field(None, ge=0, description="'Performance density' (TPP per mm² of applicable die area), at most 4 decimals.")
    designed_for_datacenter: Optional[bool] = Field(None, description="Designed or marketed for use in a datacenter.")
    training_operations: Optional[Decimal] = Field(None, ge=0, description="Operations used to train the model (model weights), e.g. 3.0e26; at most 9 significant digits.")
    open_weights: bool = Field(False, description="The weights have been published (15 CFR 734.7(a)).")
    below_published_frontier: bool = Field(False, description="The model is less capable than the most capable model with published weights (4E091 exclusion).")
    designer_approved: Optional[bool] = Field(None, description="Designed by an approved or authorized IC designer (Supp. No. 6 to part 740).")
    foreign_produced: bool = Field(False, description="Produced outside the United States.")
    fdp_product_scope: bool = Field(False, description="A direct product of U.S.-origin technology/software, or of a plant or major component of one (734.9 product scope).")
    incorporated_into_non_ear99: bool = Field(False, description="Will be incorporated into a part, component, computer or equipment not designated EAR99.")


class Party(_Strict):
    """A party to the transaction and where it sits."""

    id: str = Field(min_length=1)
    role: str = Field(description="exporter | consignee | ultimate_consignee | end_user | iaas_customer")
    country: str = Field(description="Where the party is located (ISO 3166-1 alpha-2; MO for Macau).")
    headquarters: Optional[str] = Field(None, description="Where it is headquartered; defaults to `country`.")
    ultimate_parent_headquarters: Optional[str] = Field(None, description="Where its ultimate parent is headquartered; defaults to `headquarters` (a company with no parent is its own ultimate parent).")
    government_controlled: bool = Field(False, description="Wholly owned or otherwise controlled by a government other than the U.S. Government.")
    individual: bool = Field(False, description="The party is an individual, not a firm.")
    distributor: bool = Field(False, description="The party is a distributor (buys to resell).")
    veu: str = Field("none", description="Data Center VEU status: none | universal | national.")
    meets_supp10_security: bool = Field(False, description="Its facility meets paragraphs 14, 15 and 18 of Supplement No. 10 to part 748.")
    same_veu_as: Optional[str] = Field(None, description="Id of another party of this case that is the same Data Center VEU (this party is another authorized location of it; 15 CFR 748.15(d)(2)).")


class Usage(_Strict):
    """Prior use of quantity-limited authorizations, in TPP."""

    lpp_tpp: int = Field(0, ge=0, description="TPP already exported under LPP to this ultimate consignee this calendar year.")
    country_allocation_tpp: int = Field(0, ge=0, description="TPP already counted against the destination's country allocation (2025-2027 cumulative).")
    aia_cumulative_tpp: int = Field(0, ge=0, description="TPP of AIA items the ultimate consignee already received.")
    veu_installed_tpp: int = Field(0, ge=0, description="TPP already installed by the VEU (national VEU: in this country; universal VEU: in this destination).")
    veu_total_tpp: int = Field(0, ge=0, description="Universal VEU: total TPP installed worldwide before this shipment.")
    veu_supp5a_tpp: int = Field(0, ge=0, description="Universal VEU: TPP installed in Supp. No. 5 paragraph (a) destinations.")
    veu_us_tpp: int = Field(0, ge=0, description="Universal VEU: TPP installed in the United States.")


class Knowledge(_Strict):
    """What the exporter knows: facts that raise red flags."""

    iaas_training_4e091_for_hq: Optional[str] = Field(None, description="An IaaS/computing customer headquartered (or whose ultimate parent is headquartered) in this country is being helped to train a 4E091-level model.")


class Case(_Strict):
    """One transaction (or scenario) to determine."""

    case: str = Field(min_length=1, description="Case id, unique within a suite.")
    title: str = ""
    date: dt.date = Field(description="Transaction date (ISO 8601); selects the rules in force.")
    transaction: str = Field("export", description="export | reexport | transfer_in_country | service (an activity within one country that moves no item, e.g. IaaS in the U.S.)")
    from_: str = Field("US", alias="from", description="Country of export or reexport.")
    to: str = Field(description="Destination country.")
    end_use: Optional[str] = Field(None, description="ai_model_training | development | production | storage | datacenter_services | other")
    government_commitment_percent: int = Field(0, ge=0, le=100000, description="Increase of the destination's allocation (in %) that its government-to-government commitments would justify; the KB caps it at the regulation's maximum (100%).")
    items: list[Item] = Field(min_length=1)
    parties: list[Party] = Field(default_factory=list)
    usage_this_year: Usage = Field(default_factory=Usage)
    knowledge: Knowledge = Field(default_factory=Knowledge)
    reform: Optional[list[str]] = Field(None, description="Named reforms applied to this case (what-if).")
    expect: Optional[dict[str, Any]] = Field(None, description="Expected determinations (regression suites); see docs/case-format.md.")

    # Where the case came from, for messages and explanations (not part of the file).
    _source: str = ""
    _lines: dict[str, int] = {}

    @property
    def source(self) -> str:
        return self._source

    def line_of(self, path: str) -> int | None:
        """The line of a field path in the source file, where the loader knows it."""
        return self._lines.get(path)
