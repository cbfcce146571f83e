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
from typing import Annotated, Any, Optional

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

#: Cases solved together in one grounding are told apart by an internal key, the first argument of
#: every case atom: ``"#0"``, ``"#1"``, … (solver, recorder, compact proofs). Item and party ids of
#: that form would be mistaken for the case, so the loader refuses them (``CASE_KEY_RE``).
CASE_KEY_RE = re.compile(r"#[0-9]+\Z")


def case_keys(n: int) -> list[str]:
    """The internal keys of *n* cases solved in one grounding."""
    return [f"#{i}" for i in range(n)]

CASE_FORMAT_VERSION = 1


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def _whole_number_not_bool(value: Any) -> Any:
    """Why: pydantic reads ``quantity: true`` as 1 (bool is an int in Python); a case that says
    ``true`` where a count belongs is a mistake, not a shipment of one. A JSON number with a huge
    exponent (a Decimal) is refused before pydantic turns it into an int."""
    if value is True or value is False:
        raise PydanticCustomError("count_not_bool", "a count, not true/false")
    if isinstance(value, Decimal) and (not value.is_finite() or value.adjusted() > 18):
        # Converting Decimal("1e999999999") to an int would build a billion-digit number (a hang).
        raise PydanticCustomError("number_out_of_range", "far beyond any count the solver handles")
    return value


def _iso_date(value: Any) -> Any:
    """Why: pydantic also reads a Unix timestamp (``1748736000``, as number or text) as a date; a
    transaction date is written YYYY-MM-DD (or is a YAML/Python date), nothing else."""
    if value.__class__ is dt.date or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise PydanticCustomError("date_not_iso", "not a date written as YYYY-MM-DD")


#: Decimal fields hold measured values (TPP, density, operations); none needs more digits or a larger
#: exponent than this. Why a bound: ``1e999999999`` is a valid Decimal, but multiplying it overflows the
#: decimal context (a traceback) and printing a 5000-digit number is not an error message.
DECIMAL_MAX_DIGITS, DECIMAL_MAX_EXPONENT = 40, 60


def _bounded_decimal(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise PydanticCustomError("number_not_finite", "not a finite number")
    if len(value.as_tuple().digits) > DECIMAL_MAX_DIGITS or abs(value.adjusted()) > DECIMAL_MAX_EXPONENT:
        raise PydanticCustomError("number_out_of_range",
                                  "more than {digits} digits or an exponent beyond +/-{exp}",
                                  {"digits": DECIMAL_MAX_DIGITS, "exp": DECIMAL_MAX_EXPONENT})
    return value


#: An integer field that refuses true/false; a date field that refuses timestamps; a boolean that is
#: only true or false (never 1, "yes" or "on": CSV front ends map their spellings before validation).
Count = Annotated[int, BeforeValidator(_whole_number_not_bool)]
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
Flag = Annotated[bool, Field(strict=True)]
Number = Annotated[Decimal, AfterValidator(_bounded_decimal)]


class _Strict(BaseModel):
    # validate_by_name=False: the Python name ``from_`` is not a key of the case file (only ``from`` is).
    model_config = ConfigDict(extra="forbid", validate_by_name=False, validate_by_alias=True)


class Item(_Strict):
    """One line of the shipment: chips, computers, or model weights."""

    id: str = Field(min_length=1, description="Identifier of the item, unique within the case.")
    kind: Optional[str] = Field(None, description="ic | computer | model_weights | other. Needed when no ECCN is given.")
    eccn: Optional[str] = Field(None, description="ECCN as written in the CCL (3A090.a, 4A090.b, 5A992.z.1, 4E091, EAR99). Omit to let the KB classify from the specs.")
    quantity: Count = Field(1, ge=0, description="Number of units shipped.")
    tpp: Optional[Number] = Field(None, ge=0, description="Per-unit 'total processing performance' (a whole number).")
    performance_density: Optional[Number] = Field(None, ge=0, description="'Performance density' (TPP per mm² of applicable die area), at most 4 decimals.")
    designed_for_datacenter: Optional[Flag] = Field(None, description="Designed or marketed for use in a datacenter.")
    training_operations: Optional[Number] = Field(None, ge=0, description="Operations used to train the model (model weights), e.g. 3.0e26; at most 9 significant digits.")
    open_weights: Flag = Field(False, description="The weights have been published (15 CFR 734.7(a)).")
    below_published_frontier: Flag = Field(False, description="The model is less capable than the most capable model with published weights (4E091 exclusion).")
    designer_approved: Optional[Flag] = Field(None, description="Designed by an approved or authorized IC designer (Supp. No. 6 to part 740).")
    foreign_produced: Flag = Field(False, description="Produced outside the United States.")
    fdp_product_scope: Flag = Field(False, description="A direct product of U.S.-origin technology/software, or of a plant or major component of one (734.9 product scope).")
    incorporated_into_non_ear99: Flag = Field(False, description="Will be incorporated into a part, component, computer or equipment not designated EAR99.")


class Party(_Strict):
    """A party to the transaction and where it sits."""

    id: str = Field(min_length=1)
    role: str = Field(description="exporter | consignee | ultimate_consignee | end_user | iaas_customer")
    country: str = Field(description="Where the party is located (ISO 3166-1 alpha-2; MO for Macau).")
    headquarters: Optional[str] = Field(None, description="Where it is headquartered; defaults to `country`.")
    ultimate_parent_headquarters: Optional[str] = Field(None, description="Where its ultimate parent is headquartered; defaults to `headquarters` (a company with no parent is its own ultimate parent).")
    government_controlled: Flag = Field(False, description="Wholly owned or otherwise controlled by a government other than the U.S. Government.")
    individual: Flag = Field(False, description="The party is an individual, not a firm.")
    distributor: Flag = Field(False, description="The party is a distributor (buys to resell).")
    veu: str = Field("none", description="Data Center VEU status: none | universal | national.")
    meets_supp10_security: Flag = Field(False, description="Its facility meets paragraphs 14, 15 and 18 of Supplement No. 10 to part 748.")
    same_veu_as: Optional[str] = Field(None, description="Id of another party of this case that is the same Data Center VEU (this party is another authorized location of it; 15 CFR 748.15(d)(2)).")
    employer: Optional[str] = Field(None, description="Deemed exports: id of another party of this case that employs this individual (15 CFR 742.6(a)(13)).")
    permanent_regular_employee: Flag = Field(False, description="Deemed exports: a 'permanent and regular employee' of its employer as 15 CFR 734.20(d)(2) defines it.")


class Usage(_Strict):
    """Prior use of quantity-limited authorizations, in TPP."""

    lpp_tpp: Count = Field(0, ge=0, description="TPP already exported under LPP to this ultimate consignee this calendar year.")
    country_allocation_tpp: Count = Field(0, ge=0, description="TPP already counted against the destination's country allocation (2025-2027 cumulative).")
    aia_cumulative_tpp: Count = Field(0, ge=0, description="TPP of AIA items the ultimate consignee already received.")
    veu_installed_tpp: Count = Field(0, ge=0, description="TPP already installed by the VEU (national VEU: in this country; universal VEU: in this destination).")
    veu_total_tpp: Count = Field(0, ge=0, description="Universal VEU: total TPP installed worldwide before this shipment.")
    veu_supp5a_tpp: Count = Field(0, ge=0, description="Universal VEU: TPP installed in Supp. No. 5 paragraph (a) destinations.")
    veu_us_tpp: Count = Field(0, ge=0, description="Universal VEU: TPP installed in the United States.")


class Knowledge(_Strict):
    """What the exporter knows: facts that raise red flags."""

    iaas_training_4e091_for_hq: Optional[str] = Field(None, description="An IaaS/computing customer headquartered (or whose ultimate parent is headquartered) in this country is being helped to train a 4E091-level model.")


class Case(_Strict):
    """One transaction (or scenario) to determine."""

    case: str = Field(min_length=1, description="Case id, unique within a suite.")
    title: str = ""
    date: IsoDate = Field(description="Transaction date (ISO 8601); selects the rules in force.")
    transaction: str = Field("export", description="export | reexport | transfer_in_country | service (an activity within one country that moves no item, e.g. IaaS in the U.S.) | deemed_export | deemed_reexport (a release of technology or source code to a foreign person; `to` is that person's country)")
    from_: str = Field("US", alias="from", description="Country of export or reexport.")
    to: str = Field(description="Destination country.")
    ultimate_destination: Optional[str] = Field(None, description="Country of the customers the items are ultimately destined to after development, production or storage (15 CFR 740.28(a)); absent means not stated.")
    end_use: Optional[str] = Field(None, description="ai_model_training | development | production | storage | datacenter_services | other")
    government_commitment_percent: Count = Field(0, ge=0, le=100000, description="Increase of the destination's allocation (in %) that its government-to-government commitments would justify; the KB caps it at the regulation's maximum (100%).")
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
