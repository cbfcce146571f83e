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
    technology: Optional[str] = Field(None, description="Foreign regime only (regime: cn_mofcom): the technology, as named by the KB's catalogue (e.g. lfp_cathode_preparation).")
    technology_specs: Optional[dict[str, Number]] = Field(None, description="Foreign regime only: the technology's parameters by name (compaction_density g/cc, compaction_pressure MPa, discharge_capacity mAh/g, first_coulombic_efficiency %, tap_density g/cc), at most 3 decimals.")
    hts: Optional[str] = Field(None, description="Harmonized Tariff Schedule code (at least 6 digits, e.g. 8542.31); the HTS-6 code selects the part 746 supplements (Russia/Belarus) the item is listed in.")
    dram_bandwidth_gbps: Optional[Count] = Field(None, ge=0, le=2_147_483_647, description="Total DRAM bandwidth per unit, GB/s (a whole number; the H200 rule, 91 FR 1684).")
    commercially_available_in_us: Optional[Flag] = Field(None, description="Commercially available in the United States on 15 January 2026 (the H200 rule, 91 FR 1684).")
    designer_headquarters: Optional[str] = Field(None, description="Where the IC's designer is headquartered (ISO 3166-1 alpha-2; MO for Macau): the GP10 guidance of 13 May 2025 concerns 3A090 ICs designed in Macau or D:5.")
    product: Optional[str] = Field(None, min_length=1, max_length=200, description="The product name as sold (e.g. Huawei Ascend 910C); compared without regard to case or spacing with the ICs the GP10 guidance of 13 May 2025 names.")
    for_eccn: Optional[str] = Field(None, description="Software or technology only: the ECCN (with paragraph) of the item it is for, in the CCL's 'for' notation, e.g. 3A901.b for 3D901 software (the September 2024 rule, 89 FR 72926).")


class Address(_Strict):
    """A party's address, as written on the order (Entity List address-only entries, 15 CFR 744.16(f))."""

    street: str = Field("", description="Street line(s), including unit, floor and building.")
    city: str = Field("", description="City (for Hong Kong: Hong Kong).")
    postal_code: str = Field("", description="Postal code, if any.")
    country: str = Field(description="ISO 3166-1 alpha-2 country of the address.")


class Owner(_Strict):
    """One owner of a party and its share (the Affiliates rule, 90 FR 47201: >= 50 % owned by listed parties)."""

    party: Optional[str] = Field(None, description="Id of another party of this case that owns this party.")
    name: Optional[str] = Field(None, description="Name of an owner that is not a party of the case.")
    percent: Number = Field(description="Share owned, 0-100, at most 2 decimals.")


class EntityListStatus(_Strict):
    """The party's Entity List status as stated by a user who screened elsewhere."""

    listed: Flag = Field(description="true: the party is on the Entity List; false: it is not.")
    entry: Optional[str] = Field(None, description="Entry id (of the user's list or a sample entry of kb/parties/entity_list.lp).")
    scope: Optional[str] = Field(None, description="all_items (the default for listed: true) | partial (the entry covers only some items).")
    review_policy: Optional[str] = Field(None, description="presumption_of_denial | presumption_of_approval | case_by_case | policy_of_denial")
    footnotes: list[int] = Field(default_factory=list, description="Entity List footnotes of the entry (1, 4, 5 extend the FDP rules, 734.9(e)).")


class ScreeningHit(_Strict):
    """One screening hit recorded with the case (the fields of exportkb.case.parties.ListHit)."""

    party_id: str = Field(min_length=1, description="Id of the party that was screened.")
    entry_id: str = Field(min_length=1, description="Id of the list entry hit.")
    source: str = Field("Entity List (EL) - Bureau of Industry and Security", description="The list the entry comes from.")
    entry_name: str = Field("", description="The entry's name (or address, for an address-only entry).")
    matched_on: str = Field(description="name | alias | address")
    kind: str = Field(description="match | potential | address_only | same_building_other_unit")
    score: Number = Field(Decimal(1), ge=0, le=1, description="The screener's score, 0-1.")
    federal_register_notice: str = Field("", description="The entry's Federal Register notice(s).")
    license_requirement: str = Field("", description="The entry's licence-requirement column, as written.")
    license_policy: str = Field("", description="The entry's licence-review-policy column, as written.")
    list_file: str = Field("", description="The screening list file the hit came from (as given to --list); empty when the hit was recorded by hand.")
    list_version: str = Field("", description="The SHA-256 of that list file's bytes (its version).")


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
    veu: str = Field("none", description="Data Center VEU status: none | universal | national (90 FR 4544) | data_center (the single-type authorization of 89 FR 80080, Oct. 2024).")
    meets_supp10_security: Flag = Field(False, description="Its facility meets paragraphs 14, 15 and 18 of Supplement No. 10 to part 748.")
    same_veu_as: Optional[str] = Field(None, description="Id of another party of this case that is the same Data Center VEU (this party is another authorized location of it; 15 CFR 748.15(d)(2)).")
    employer: Optional[str] = Field(None, description="Deemed exports: id of another party of this case that employs this individual (15 CFR 742.6(a)(13)).")
    permanent_regular_employee: Flag = Field(False, description="Deemed exports: a 'permanent and regular employee' of its employer as 15 CFR 734.20(d)(2) defines it.")
    d5_majority_owned: Optional[Flag] = Field(None, description="Majority-owned by an entity headquartered in Macau or D:5 (15 CFR 744.23(d)(2)); absent: not stated.")
    name: Optional[str] = Field(None, description="The party's name as written on the order (screened against the Entity List).")
    aliases: list[str] = Field(default_factory=list, description="Other names the party uses.")
    address: Optional[Address] = Field(None, description="The party's address (address-only Entity List entries, 744.16(f)).")
    owned_by: list[Owner] = Field(default_factory=list, description="Owners and their shares (the Affiliates rule, 90 FR 47201).")
    entity_list: Optional[EntityListStatus] = Field(None, description="Stated Entity List status, for users who screen elsewhere.")
    employed_since: Optional[IsoDate] = Field(None, description="Deemed releases: the date since which this individual has been an employee or contractor of the releasing entity (the grandfather clause of 742.4(a)(5)(ii)(A), 6 September 2024).")
    prohibited_person: Optional[Flag] = Field(None, description="Listed on the Entity List, Unverified List, Military End-User List or Denied Persons List (742.4(a)(5)(ii)(A); 740.2(a)(17)); absent: not stated.")


class Usage(_Strict):
    """Prior use of quantity-limited authorizations, in TPP."""

    lpp_tpp: Count = Field(0, ge=0, description="TPP already exported under LPP to this ultimate consignee this calendar year.")
    country_allocation_tpp: Count = Field(0, ge=0, description="TPP already counted against the destination's country allocation (2025-2027 cumulative).")
    aia_cumulative_tpp: Count = Field(0, ge=0, description="TPP of AIA items the ultimate consignee already received.")
    veu_installed_tpp: Count = Field(0, ge=0, description="TPP already installed by the VEU (national VEU: in this country; universal VEU: in this destination).")
    veu_total_tpp: Count = Field(0, ge=0, description="Universal VEU: total TPP installed worldwide before this shipment.")
    veu_supp5a_tpp: Count = Field(0, ge=0, description="Universal VEU: TPP installed in Supp. No. 5 paragraph (a) destinations.")
    veu_us_tpp: Count = Field(0, ge=0, description="Universal VEU: TPP installed in the United States.")


class H200Certifications(_Strict):
    """The exporter's certifications under the 15 January 2026 H200 rule (91 FR 1684); absent = not given."""

    us_supply: Flag = Field(False, description="There is sufficient supply of the product in the United States.")
    no_foundry_diversion: Flag = Field(False, description="Production for export to China will not divert global foundry capacity from U.S. end users.")
    recipient_security: Flag = Field(False, description="The recipient has demonstrated sufficient security procedures (KYC / remote-access controls).")
    us_third_party_testing: Flag = Field(False, description="The item undergoes independent third-party testing in the United States.")
    us_volume_limit: Flag = Field(False, description="Shipments to China stay within the volume limit relative to U.S. customers (reported as 50%; UNVERIFIED).")


class Knowledge(_Strict):
    """What the exporter knows: facts that raise red flags."""

    iaas_training_4e091_for_hq: Optional[str] = Field(None, description="An IaaS/computing customer headquartered (or whose ultimate parent is headquartered) in this country is being helped to train a 4E091-level model.")
    # G7 joint guidance on Russia diversion (24 Sept 2024), red-flag indicators (seeds lane)
    routing_changed_last_minute: Optional[Flag] = Field(None, description="The customer changed the routing or the ship-to at the last minute (G7 joint guidance red flag).")
    asked_to_remove_destination_references: Optional[Flag] = Field(None, description="The customer asked to remove references to the destination (e.g. Russia) from the documents (G7 joint guidance red flag).")
    new_importer_at_sanctioned_address: Optional[Flag] = Field(None, description="The consignee is a new importer of Common High Priority List items at the address of a sanctioned party (G7 joint guidance red flag).")
    transshipment_via_third_country: Optional[Flag] = Field(None, description="The items are routed through a third country known for diversion to Russia or Belarus (G7 joint guidance red flag).")
    # The BIS guidance of 13 May 2025 (kb/guidance/may2025.lp; law-transition lane)
    ai_training_for_hq: Optional[str] = Field(None, description="The items or services will be used to train AI models for or on behalf of a party headquartered in this country (policy statement of 13 May 2025).")
    wmd_or_military_intelligence_end_use: Optional[Flag] = Field(None, description="The AI model being trained is for a weapons-of-mass-destruction or military-intelligence end use (true), is known not to be (false), or the case does not say (absent).")
    us_person_support_for_training: Optional[Flag] = Field(None, description="The exporter is a U.S. person whose support, contract, service or employment will be used for, or may assist, that training (15 CFR 744.6, as the policy statement explains it).")
    first_advanced_ic_orders_after_oct_2022: Optional[Flag] = Field(None, description="The customer began ordering advanced computing ICs only after the October 2022 controls (diversion guidance red flag, 13 May 2025).")
    residential_address_commercial_quantities: Optional[Flag] = Field(None, description="A customer with a residential address orders commercial quantities (diversion guidance red flag, 13 May 2025).")
    minimal_online_presence: Optional[Flag] = Field(None, description="The customer has minimal online presence (diversion guidance red flag, 13 May 2025).")
    no_business_justification_for_advanced_ics: Optional[Flag] = Field(None, description="The customer has no clear business justification for advanced computing ICs (diversion guidance red flag, 13 May 2025; wording from a secondary summary, UNVERIFIED).")
    data_center_cannot_confirm_capacity: Optional[Flag] = Field(None, description="The data center the ICs are for cannot confirm it has the infrastructure capacity for them (diversion guidance red flag, 13 May 2025; wording from a secondary summary, UNVERIFIED).")
    forwarder_or_reseller_outside_advanced_ic_distribution: Optional[Flag] = Field(None, description="A freight forwarder or reseller not normally associated with advanced semiconductor distribution is involved (diversion guidance red flag, 13 May 2025; wording from a secondary summary, UNVERIFIED).")


class Case(_Strict):
    """One transaction (or scenario) to determine."""

    case: str = Field(min_length=1, description="Case id, unique within a suite.")
    title: str = ""
    date: IsoDate = Field(description="Transaction date (ISO 8601); selects the rules in force.")
    transaction: str = Field("export", description="export | reexport | transfer_in_country | service (an activity within one country that moves no item, e.g. IaaS in the U.S.) | deemed_export | deemed_reexport (a release of technology or source code to a foreign person; `to` is that person's country)")
    from_: str = Field("US", alias="from", description="Country of export or reexport.")
    to: str = Field(description="Destination country.")
    ultimate_destination: Optional[str] = Field(None, description="Country of the customers the items are ultimately destined to after development, production or storage (15 CFR 740.28(a)); absent means not stated.")
    end_use: Optional[str] = Field(None, description="ai_model_training | development | production | storage | datacenter_services | technical_evaluation | other")
    government_commitment_percent: Count = Field(0, ge=0, le=100000, description="Increase of the destination's allocation (in %) that its government-to-government commitments would justify; the KB caps it at the regulation's maximum (100%).")
    items: list[Item] = Field(min_length=1)
    parties: list[Party] = Field(default_factory=list)
    usage_this_year: Usage = Field(default_factory=Usage)
    knowledge: Knowledge = Field(default_factory=Knowledge)
    h200_certifications: H200Certifications = Field(default_factory=H200Certifications, description="Certifications under the H200 rule (91 FR 1684).")
    early_compliance: Flag = Field(False, description="In the transition window (2025-01-13 to 2025-05-14) the exporter follows the AI Diffusion IFR as a whole before compliance is required: its requirements bind and its authorizations (AIA, ACM, LPP, amended NAC/ACA, UVEU/NVEU) are open (90 FR 4544 DATES; kb/requirements/transition.lp).")
    reform: Optional[list[str]] = Field(None, description="Named reforms applied to this case (what-if).")
    regime: str = Field("us_ear", description="The law the case asks about: us_ear (the EAR, default) or cn_mofcom (China's Catalogue of Technologies Prohibited and Restricted from Export). Determinations of different regimes are never mixed.")
    screening: Optional[list[ScreeningHit]] = Field(None, description="Screening hits for this case's parties (absent: not screened; [] : screened, no hit). A caller may also pass hits to exportkb.solve.laws.ready(..., hits=...).")
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
