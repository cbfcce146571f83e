"""JSON Schema of the case format, generated from the pydantic models.

The enumerations (countries, ECCNs, end uses, roles...) come from the KB's
vocabulary, so the schema and the validator can never disagree.
"""
from __future__ import annotations

from typing import Any

from .eccn import ECCN_RE
from .model import CASE_FORMAT_VERSION, Case
from .vocabulary import Vocabulary


def case_schema(kb: Vocabulary) -> dict[str, Any]:
    schema = Case.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://exportkb.invalid/case-format/v{CASE_FORMAT_VERSION}.json"
    schema["title"] = f"exportkb case file, format v{CASE_FORMAT_VERSION}"
    countries = sorted(kb.countries)
    defs = schema.get("$defs", {})

    def enum(props: dict, key: str, values: list[str]) -> None:
        if key not in props:
            return
        p = props[key]
        if "anyOf" in p:
            p["anyOf"] = [{"type": "string", "enum": values}, {"type": "null"}]
        else:
            p["enum"] = values

    top = schema["properties"]
    enum(top, "from", countries)
    enum(top, "to", countries)
    enum(top, "ultimate_destination", countries)
    enum(top, "transaction", kb.values("transaction_kind"))
    enum(top, "end_use", kb.values("end_use_value"))
    enum(top, "regime", kb.values("regime_value"))
    item = defs["Item"]["properties"]
    if "eccn" in item:  # any well-formed ECCN (exportkb.case.eccn); the KB's own ones are listed as examples
        item["eccn"]["anyOf"] = [{"type": "string", "pattern": "^(EAR99|" + ECCN_RE.pattern.removesuffix("\\Z") + ")$",
                                  "examples": sorted(kb.eccns)}, {"type": "null"}]
    enum(item, "kind", kb.values("item_kind_value"))
    party = defs["Party"]["properties"]
    for k in ("country", "headquarters", "ultimate_parent_headquarters"):
        enum(party, k, countries)
    enum(party, "role", kb.values("party_role_value"))
    enum(party, "veu", kb.values("veu_value"))
    enum(defs["Knowledge"]["properties"], "iaas_training_4e091_for_hq", countries)
    enum(defs["Knowledge"]["properties"], "ai_training_for_hq", countries)
    enum(item, "designer_headquarters", countries)
    enum(defs["Address"]["properties"], "country", countries)
    status = defs["EntityListStatus"]["properties"]
    enum(status, "scope", kb.values("el_scope_value"))
    enum(status, "review_policy", kb.values("review_policy_value"))
    from .parties import HIT_KINDS, MATCHED_ON  # the screening contract's values (exportkb.case.parties)

    hit = defs["ScreeningHit"]["properties"]
    enum(hit, "matched_on", list(MATCHED_ON))
    enum(hit, "kind", list(HIT_KINDS))
    return schema
