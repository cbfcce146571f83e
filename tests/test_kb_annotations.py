"""Every statement of kb/ carries an id, a citation, a source and a plain-English reading."""
from __future__ import annotations

import re


def test_no_annotation_problems(kb):
    assert kb.problems == []


def test_every_rule_cites_the_cfr_or_federal_register(kb):
    bad = [f"{r.file}:{r.line} {r.id}" for r in kb.rules
           if not re.search(r"CFR|FR |ISO 3166|GAO|BIS|MOFCOM|method", r.cite)]
    assert bad == []


def test_every_rule_names_its_source_document(kb):
    bad = [f"{r.file}:{r.line} {r.id}" for r in kb.rules
           if not re.search(r"seed|reference/|shared/|ISO", r.source)]
    assert bad == []


def test_every_derived_predicate_has_a_template(kb):
    heads = {r.head for r in kb.rules if r.head}
    missing = sorted(h for h in heads if h not in kb.templates)
    assert missing == []


def test_inputs_are_never_defined_in_kb(kb):
    heads = {r.head for r in kb.rules if r.head}
    assert sorted(set(kb.inputs) & heads) == []
