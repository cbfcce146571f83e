"""Template filters (``{X:upper}`` etc. in ``%@`` lines): the law's names for the KB's constants.

The KB's constants are lower-case identifiers (``lpp``, ``d5``, ``rf28``); a proof sentence must
say "LPP", "Country Group D:5", "red flag 28". The builder (kb.TEMPLATE_FILTERS) and the
independent checker (verify._FILTERS) implement the filters separately; these tests keep them in
step and check the names against the KB's own catalogues, not against literals typed here.
"""
from __future__ import annotations

import re

import clingo
import pytest

from exportkb.explain import Explainer, Proof
from exportkb.explain.verify import _FILTERS, Checker, expected_statement, verify_proof
from exportkb.kb import TEMPLATE_FILTERS, TEMPLATE_PLACEHOLDER_RE, KnowledgeBase
from exportkb.case.loader import load_case

from .conftest import CASES

WE01 = CASES / "aia" / "aia-we01-germany.yaml"


def _constants(kb: KnowledgeBase) -> set[str]:
    """Every constant the KB's catalogues name, plus edge cases of the filters' patterns."""
    out = {"abc", "x_1", "rf", "d", "a55", "supp5a", "_"}
    for pred in ("exception", "country_group", "red_flag_def", "requirement", "transaction_kind",
                 "end_use_value", "party_role_value", "item_kind_value", "milestone"):
        out |= {row[0] for row in kb.facts(pred) if isinstance(row[0], str)}
    return out


def test_builder_and_checker_filters_agree(kb):
    assert set(TEMPLATE_FILTERS) == set(_FILTERS)
    for name in TEMPLATE_FILTERS:
        for c in sorted(_constants(kb)):
            assert TEMPLATE_FILTERS[name](c) == _FILTERS[name](c), (name, c)


def test_upper_gives_the_exception_catalogue_names(kb):
    rows = kb.facts("exception")
    assert rows
    for code, name, _cite in rows:
        assert TEMPLATE_FILTERS["upper"](code) == name


def test_group_writes_country_groups_as_the_ear_does(kb):
    groups = [g for (g,) in kb.facts("country_group")]
    lettered = [g for g in groups if re.fullmatch(r"[a-z]\d+", g)]
    assert lettered
    for g in lettered:
        assert TEMPLATE_FILTERS["group"](g) == f"{g[0].upper()}:{g[1:]}"
    for g in set(groups) - set(lettered):  # e.g. supp5a: not a lettered group, shown as it is
        assert TEMPLATE_FILTERS["group"](g) == g


def test_number_keeps_the_number_the_law_uses(kb):
    for (flag, *_rest) in kb.facts("red_flag_def"):
        m = re.search(r"\d+$", flag)  # Supp. No. 3 red flags are numbered; the G7 indicators are named
        assert TEMPLATE_FILTERS["number"](flag) == (m.group(0) if m else flag)
    assert TEMPLATE_FILTERS["number"]("abc") == "abc"


def test_shipped_templates_use_known_filters_on_their_own_arguments(kb):
    assert not [p for p in kb.problems if "template" in p]
    used = [(t, v, f) for t in kb.templates.values() for v, f in TEMPLATE_PLACEHOLDER_RE.findall(t.text) if f]
    assert used
    for t, v, f in used:
        assert f in TEMPLATE_FILTERS and v in t.args, (t.signature, v, f)


@pytest.mark.parametrize("line,problem", [
    ("%@ p(X): thing {X:shout}.", "unknown filter {X:shout}"),
    ("%@ p(X): thing {Y:upper}.", "names {Y:upper}, not an argument of p(X)"),
])
def test_bad_filters_are_kb_problems(tmp_path, line, problem):
    (tmp_path / "t.lp").write_text(f"{line}\n%! id: t.p\n%! cite: c\n%! source: s\n%! reads: r\np(a).\n")
    kb = KnowledgeBase.load(tmp_path)
    assert any(problem in p for p in kb.problems), kb.problems


@pytest.fixture(scope="module")
def we01_acm(kb):
    return Explainer(kb).case(load_case(WE01, kb)).explain("ACM", mode="why_not", item="gpus")


def test_proof_sentence_uses_the_catalogue_name(kb, we01_acm):
    name = next(n for code, n, _ in kb.facts("exception") if code == "acm")
    tpl = kb.templates["exception_available/3"].text
    root = we01_acm.node(we01_acm.root)
    assert "{X:upper}" in tpl
    assert root["statement"] == tpl.replace("{X:upper}", name).replace("{I}", "gpus")
    assert "acm" not in root["statement"]


def test_filters_rewrite_constants_only(kb):
    atom = clingo.Function("in_group", [clingo.String("c1"), clingo.String("d5"), clingo.Function("d5")])
    said = expected_statement(kb, atom)
    assert "d5 is in Country Group D:5" in said  # the string argument X is shown as it is


def _forged(proof: Proof, kind: str, text: str) -> Proof:
    """*proof* with the statement of its first step of *kind* replaced by *text*."""
    data = proof.to_json()
    nodes = [dict(n) for n in data["nodes"]]
    victim = next(n for n in nodes if n["kind"] == kind)
    victim["statement"] = text
    return Proof.from_json(dict(data, nodes=nodes))


@pytest.mark.parametrize("kind,text,problem", [
    ("not_derived", "ACM is not available for item gpus.", "does not read"),
    ("attempt", "this rule never applies.", "is not what rule"),
])
def test_checker_rejects_a_sentence_that_does_not_say_what_the_step_says(kb, we01_acm, kind, text, problem):
    case = load_case(WE01, kb)
    checker = Checker(kb, case)
    assert verify_proof(we01_acm, kb, case, checker) == []
    problems = verify_proof(_forged(we01_acm, kind, text), kb, case, checker)
    assert any(problem in p for p in problems), problems
