"""No text in a case file can change a determination or break a solve.

Property: take a valid random case with plain ids (``plain``, ``i0``, ``p0``),
rename its case id, title, item ids and party ids to arbitrary text — the whole
Unicode range and ASP syntax (``"``, ``\\``, ``).``, ``:-``, ``#include``, ``%``,
``*%``, newlines, RTL marks...) — and solve both in ONE grounding. Mapping the
ids back, the determinations are identical. Ids reach clingo only as
``clingo.String`` (src/exportkb/case/facts.py), so this checks the whole round trip:
symbols in, the model text out, and the solver's parser of that text.

NUL cannot be carried (clingo strings are C strings: "a\\0b" would become "a"),
so the loader must refuse it, naming the field.

Examples per run: EXPORTKB_FUZZ_EXAMPLES (default 30; the pyDatalog property a fifth).
"""
from __future__ import annotations

import copy
from typing import Any

import clingo
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exportkb.errors import CaseError
from exportkb.case.loader import case_from_data
from exportkb.case.model import CASE_KEY_RE

from .strategies import SETTINGS, case_dicts, examples, weird_text

EXAMPLES = examples(30)


def renamed(plain: dict[str, Any], data, allow_nul: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    """The same case with every free-text id drawn from weird_text; returns it and weird→plain.

    The map covers item and party ids (a note may name either, e.g. a party's VEU); the two sets are
    drawn disjoint so that a note's quoted id maps back to one plain id only.
    """
    weird = copy.deepcopy(plain)
    text = weird_text(allow_nul)
    weird["case"] = data.draw(text, label="case id")
    weird["title"] = data.draw(st.one_of(st.just(""), text), label="title")
    n_items, n_parties = len(weird["items"]), len(weird.get("parties", []))
    # Item and party ids of the form #<digits> are reserved (the solver's case keys; the loader refuses
    # them, tests/cases/bad/reserved-id.yaml); every other text is fair game. The case id may be "#0".
    ids = text.filter(lambda t: not CASE_KEY_RE.match(t))
    item_ids = data.draw(st.lists(ids, min_size=n_items, max_size=n_items, unique=True), label="item ids")
    party_ids = data.draw(st.lists(ids.filter(lambda t: t not in item_ids), min_size=n_parties,
                                   max_size=n_parties, unique=True), label="party ids")
    back: dict[str, str] = {}
    for item, new in zip(weird["items"], item_ids):
        back[new] = item["id"]
        item["id"] = new
    for party, new in zip(weird.get("parties", []), party_ids):
        back[new] = party["id"]
        party["id"] = new
    return weird, back


def normalised(det, back: dict[str, str]) -> dict[str, Any]:
    """A determination's JSON with item ids mapped back and the case id left out."""
    js = det.to_json()
    js.pop("case")
    js["items"] = {back.get(k, k): v for k, v in js["items"].items()}
    for item in js["items"].values():
        item.pop("id", None)
    js["figures"] = {back.get(k, k): v for k, v in js["figures"].items()}
    quoted = {str(clingo.String(w)): str(clingo.String(p)) for w, p in back.items()}

    def unquote(note: str) -> str:
        for w in sorted(quoted, key=len, reverse=True):
            note = note.replace(w, quoted[w])
        return note
    js["notes"] = sorted(unquote(n) for n in js["notes"])
    # a guidance document names the item it flags in its "about" atom, as a note does
    js["guidance"] = sorted(({**g, "about": unquote(g["about"]), "item": back.get(g["item"], g["item"])}
                             for g in js.get("guidance", [])),
                            key=lambda g: (g["id"], g["about"]))
    js["atom_count"] = len(det.atoms)
    return js


def test_no_id_or_title_changes_a_determination(kb, solver, voc):
    # Properties close over the fixtures (not @given arguments) so a failure prints the case, not the KB.
    @settings(max_examples=EXAMPLES, **SETTINGS)
    @given(data=st.data())
    def prop(data):
        plain = data.draw(case_dicts(voc, max_items=3, max_parties=3), label="plain case")
        weird, back = renamed(plain, data)
        plain_case, weird_case = case_from_data(plain, kb), case_from_data(weird, kb)
        weird_items = [i["id"] for i in weird["items"]]
        assert weird_case.case == weird["case"] and [i.id for i in weird_case.items] == weird_items
        d_plain, d_weird = solver.determine_many([plain_case, weird_case])  # one grounding for both
        assert d_weird.case == weird["case"]
        assert set(d_weird.items) == set(weird_items)
        assert normalised(d_weird, back) == normalised(d_plain, {})
    prop()


def test_nul_is_refused_not_truncated(kb, voc):
    @settings(max_examples=max(5, EXAMPLES // 3), **SETTINGS)
    @given(data=st.data())
    def prop(data):
        _nul_property(kb, voc, data)
    prop()


def _nul_property(kb, voc, data):
    plain = data.draw(case_dicts(voc, max_items=2, max_parties=2), label="plain case")
    weird, _ = renamed(plain, data, allow_nul=True)
    fields = ["case", "title"] + [f"items[{i}].id" for i in range(len(weird["items"]))] + \
        [f"parties[{i}].id" for i in range(len(weird.get("parties", [])))]
    values = [weird["case"], weird["title"]] + [i["id"] for i in weird["items"]] + \
        [p["id"] for p in weird.get("parties", [])]
    with_nul = [f for f, v in zip(fields, values) if "\x00" in v]
    if not with_nul:
        case_from_data(weird, kb)  # no NUL: accepted
        return
    with pytest.raises(CaseError) as info:
        case_from_data(weird, kb)
    flagged = {p.path for p in info.value.problems}
    assert flagged == set(with_nul)
    assert all(p.message == "contains a NUL character" for p in info.value.problems)


def test_a_classic_injection_attempt_is_just_a_name(kb, solver):
    """The canonical attack, spelled out: a party id that tries to close the fact and add a rule."""
    base = {"case": "c", "date": "2025-06-01", "to": "CN",
            "items": [{"id": "gpus", "eccn": "3A090.a", "quantity": 1, "tpp": 15832}],
            "parties": [{"id": "p", "role": "ultimate_consignee", "country": "CN"}]}
    attack = copy.deepcopy(base)
    attack["parties"][0]["id"] = 'p"). license_required("#0", "gpus"). :- license_required(C, I). %'
    attack["items"][0]["id"] = 'gpus")) . #include "/etc/passwd". %*'
    a, b = solver.determine_many([case_from_data(base, kb), case_from_data(attack, kb)])
    assert normalised(b, {attack["items"][0]["id"]: "gpus"}) == normalised(a, {})


def test_pydatalog_engine_ignores_ids_too(kb, voc):
    """The same property for the second engine (exportkb.engines), on fewer examples: it is slower."""
    engines = pytest.importorskip("exportkb.engines")
    engine = engines.PyDatalogEngine(kb)

    @settings(max_examples=max(3, EXAMPLES // 5), **SETTINGS)
    @given(data=st.data())
    def prop(data):
        plain = data.draw(case_dicts(voc, max_items=2, max_parties=2), label="plain case")
        weird, back = renamed(plain, data)
        d_plain, d_weird = engine.determine_many([case_from_data(plain, kb), case_from_data(weird, kb)])
        assert normalised(d_weird, back) == normalised(d_plain, {})
    prop()
