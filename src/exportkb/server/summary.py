"""The summary a reader sees first: one plain sentence per item, then obligations and red flags.

Why from the ``check --json`` object and not from the Determination: the object is the stable
contract other lanes extend (``license_review_policy``, conditional exceptions, ``coverage``,
list hits); reading it by key, and listing every key this module does not know under "other
findings", lets a new field reach the page without a change here. Nothing here decides law:
each sentence restates a field of the determination, with the citation the KB gives for it.
The trust rule holds in the wording: ``license_required`` null is "unknown — resolve before
export", never "no license"; a conditional exception is "conditional", never "available".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..explain.plain import date_words, figure_words, law_name
from ..kb import KnowledgeBase

POLICY_WORDS = {
    "presumption_of_denial": "a presumption of denial",
    "presumption_of_approval": "a presumption of approval",
    "case_by_case": "case-by-case review",
    "policy_of_denial": "a policy of denial",
}
#: Keys of an item's object that the sentences below read; any other key is listed as found.
ITEM_KEYS_READ = {"eccn", "license_required", "license_required_enforced", "requirements", "exceptions_available",
                  "presumption_of_denial", "obligations", "classification_mismatch", "license_review_policy",
                  "license_review_policy_cite", "coverage", "exceptions_conditional", "coverage_note",
                  "license_undetermined", "license_review_policies"}


@dataclass
class Sentence:
    """A sentence of the summary, with the citations it rests on (linked on the page)."""

    text: str
    cites: list[str] = field(default_factory=list)
    tone: str = "info"                      # "required" | "clear" | "unknown" | "info" | "warning"
    item: str | None = None


@dataclass
class Summary:
    headline: list[Sentence]
    items: dict[str, list[Sentence]]
    obligations: list[Sentence]
    red_flags: list[Sentence]
    other: list[tuple[str, str]]            # (where, value) of fields no sentence reads yet
    unavailable: dict[str, list[tuple[str, str]]]   # item -> [(exception constant, its name)] for why-not
    figures: list[str] = field(default_factory=list)  # worded, with units and dates (explain.plain.figure_words)


def _words(const: str) -> str:
    return law_name(const).replace("_", " ")


def _exception(kb: KnowledgeBase, x: str) -> tuple[str, str, str]:
    """(constant, name, cite) of an exception given as a constant (``lpp``) or a name (``LPP``)."""
    names = kb.exception_names
    if x in names:
        return x, names[x][0], names[x][1]
    for k, (name, cite) in names.items():
        if name == x:
            return k, name, cite
    return x, x.upper(), ""


def summarize(kb: KnowledgeBase, det: dict[str, Any]) -> Summary:
    """The summary of one ``check --json`` object."""
    headline: list[Sentence] = []
    other: list[tuple[str, str]] = []
    day = det.get("date", "")
    try:
        import datetime as dt
        day_words = date_words(dt.date.fromisoformat(day))
    except (TypeError, ValueError):
        day_words = str(day)
    if not det.get("in_scope", True):
        why = ", ".join(_words(x) for x in det.get("out_of_scope", [])) or "outside the knowledge base's scope"
        headline.append(Sentence(f"On {day_words} this transaction is outside what this knowledge base decides "
                                 f"({why}); no determination is made.", tone="unknown"))
    items: dict[str, list[Sentence]] = {}
    unavailable: dict[str, list[tuple[str, str]]] = {}
    for item_id, it in (det.get("items") or {}).items():
        out: list[Sentence] = []
        eccn = f" ({it['eccn']})" if it.get("eccn") else ""
        reqs = it.get("requirements") or []
        cites = [r.get("cite", "") for r in reqs if r.get("cite")]
        lr = it.get("license_required")
        if it.get("coverage") == "not_covered":
            out.append(Sentence(f"Item {item_id}{eccn} is outside this knowledge base's coverage: its license "
                                "requirements are not determined here — resolve before export."
                                + (f" ({it['coverage_note']})" if it.get("coverage_note") else ""), tone="unknown",
                                item=item_id))
        if lr is None:
            why = "; ".join(_words(str(u)) for u in it.get("license_undetermined") or [])
            out.append(Sentence(f"Whether a license is required for item {item_id}{eccn} is unknown — resolve "
                                "before export" + (f" ({why})" if why else "") + ".", tone="unknown", item=item_id))
        elif lr:
            text = f"A license is required for item {item_id}{eccn}"
            if reqs:
                text += " (" + "; ".join(f"{r.get('label') or r.get('id')}" for r in reqs) + ")"
            if not it.get("license_required_enforced", True):
                text += "; BIS announced on 13 May 2025 that it would not enforce this requirement, but it remains law"
            out.append(Sentence(text + ".", cites, tone="required", item=item_id))
        else:
            out.append(Sentence(f"No license requirement of the provisions this knowledge base encodes applies to item "
                                f"{item_id}{eccn}.", tone="clear", item=item_id))
        avail = list(it.get("exceptions_available") or [])
        for x in avail:
            const, name, cite = _exception(kb, x)
            out.append(Sentence(f"License Exception {name} is available for item {item_id}.", [cite] if cite else [],
                                tone="clear", item=item_id))
        if lr and not avail and not it.get("exceptions_conditional"):
            out.append(Sentence(f"No license exception or authorization this knowledge base encodes is available for "
                                f"item {item_id}: a license application is needed.", tone="required", item=item_id))
        cond = it.get("exceptions_conditional")
        if cond:
            entries = cond.items() if isinstance(cond, dict) else (
                (c["exception"], c.get("condition")) if isinstance(c, dict) else (c, None) for c in cond)
            for x, why in entries:
                const, name, cite = _exception(kb, x if isinstance(x, str) else str(x))
                reason = f": {why if isinstance(why, str) else ', '.join(map(str, why))}" if why else ""
                out.append(Sentence(f"License Exception {name} is conditional for item {item_id} — resolve before "
                                    f"export{reason}.", [cite] if cite else [], tone="unknown", item=item_id))
        policy = it.get("license_review_policy")
        if policy:
            pc = it.get("license_review_policy_cite")
            out.append(Sentence(f"Applications for item {item_id} would be reviewed under "
                                f"{POLICY_WORDS.get(policy, _words(policy))}.", [pc] if pc else [], item=item_id,
                                tone="warning" if policy in ("presumption_of_denial", "policy_of_denial") else "info"))
        elif it.get("presumption_of_denial"):
            out.append(Sentence(f"Applications for item {item_id} would be reviewed under a presumption of denial.",
                                tone="warning", item=item_id))
        if it.get("classification_mismatch"):
            out.append(Sentence(f"Check the classification of item {item_id}: {it['classification_mismatch']}",
                                tone="warning", item=item_id))
        for ob in it.get("obligations") or []:
            out.append(Sentence(f"If item {item_id} ships under the authorization, the obligation "
                                f"“{_words(ob)}” applies.", item=item_id))
        for k, v in it.items():
            if k not in ITEM_KEYS_READ and v not in (None, [], {}, ""):
                other.append((f"items.{item_id}.{k}", _show(v)))
        items[item_id] = out
        if lr:
            unavailable[item_id] = [(x, name) for x, (name, _c) in sorted(kb.exception_names.items())
                                    if x not in avail and name not in avail]
    obligations = [Sentence(f"The case as a whole carries the obligation “{_words(o)}”.") for o in det.get("obligations") or []]
    flags_def = {rf: (label, cite) for rf, label, cite in kb.facts("red_flag_def")}
    red_flags = []
    for rf in det.get("red_flags") or []:
        label, cite = flags_def.get(rf, ("", ""))
        red_flags.append(Sentence(f"{law_name(rf).capitalize()} is raised" + (f": {label}" if label else "") +
                                  " — resolve before export.", [cite] if cite else [], tone="warning"))
    known = {"format", "case", "date", "kb_version", "in_scope", "out_of_scope", "items", "red_flags", "obligations",
             "dates", "figures", "notes", "expect_mismatches"}
    for k, v in det.items():
        if k not in known and v not in (None, [], {}, ""):
            other.append((k, _show(v)))
    figures = []
    for name, value in sorted((det.get("figures") or {}).items()):
        if isinstance(value, dict):  # per item
            figures += [f"{figure_words(k, v)} (item {name})" for k, v in sorted(value.items())]
        else:
            figures.append(figure_words(name, value))
    return Summary(headline, items, obligations, red_flags, other, unavailable, figures)


def _show(v: Any) -> str:
    import json
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
