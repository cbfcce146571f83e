"""The C event parser (libyaml) reads every case exactly as the pure-Python loader does.

Why: ``parse_yaml`` takes its events from libyaml (4 ms -> 0.8 ms per example case; the
server's and the CLI's reading time) and composes them in PyYAML's Python code. If the two ever
differed, a case would silently mean something else depending on how PyYAML was built. So:
the same data and lines for every YAML file the project ships; the same data, or the same
error message, for random YAML-like text; and a document libyaml refuses is reported with
PyYAML's own message and line.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from exportkb.case.loader import parse_yaml
from exportkb.errors import CaseError

from .strategies import SETTINGS, examples

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml: one parser only")


def _outcome(text: str, fast: bool):
    try:
        return ("data", parse_yaml(text, "t.yaml", fast=fast))
    except CaseError as exc:
        return ("error", str(exc))


def _shipped_yaml() -> list[Path]:
    found = []
    for folder in ("tests", "examples", "queries", "notebooks"):
        found += [p for p in (ROOT / folder).rglob("*") if p.suffix in (".yaml", ".yml")]
    return sorted(found)


def test_every_shipped_yaml_file_reads_the_same_with_both_parsers():
    files = _shipped_yaml()
    assert len(files) > 300  # the regression corpus, bad cases included
    differ = [str(p.relative_to(ROOT)) for p in files
              if _outcome(p.read_text(encoding="utf-8", errors="replace"), True)
              != _outcome(p.read_text(encoding="utf-8", errors="replace"), False)]
    assert differ == []


def test_plain_quoted_and_block_scalars_keep_their_meaning():
    doc = "a: true\nb: 'true'\nc: \"NO\"\nd: NO\ne: |\n  x\nf: !!str 3\ng: [1, {h: 2.50}]\n"
    data, lines = parse_yaml(doc, "t.yaml")
    assert data["a"] is True and data["b"] == "true" and data["c"] == "NO" and data["d"] == "NO"
    assert data["e"] == "x\n" and data["f"] == "3"
    assert (data, lines) == parse_yaml(doc, "t.yaml", fast=False)


def test_a_syntax_error_is_pyyamls_message_and_line():
    doc = "case: x\nitems:\n  - id: a\n  eccn: : 3A090\n"
    with pytest.raises(CaseError) as fast:
        parse_yaml(doc, "t.yaml")
    with pytest.raises(CaseError) as slow:
        parse_yaml(doc, "t.yaml", fast=False)
    assert str(fast.value) == str(slow.value)
    assert "invalid YAML" in str(fast.value) and "t.yaml:4" in str(fast.value)


def test_depth_bound_holds_on_the_fast_path():
    with pytest.raises(CaseError, match="nested more than"):
        parse_yaml("a: " + "[" * 5000 + "]" * 5000 + "\n", "t.yaml")


PIECES = ["a", "b:", " ", "  ", "\n", "- ", ": ", "'", '"', "[", "]", "{", "}", ",", "#", "&x ", "*x", "!!str ",
          "|", ">", "---\n", "...\n", "true", "NO", "1_000", "3.0e26", "0x1F", "\t", "\\", "é", "\u2028", "?", "%YAML 1.2\n",
          "<<: ", "~", "null", "!", "!!binary ", "!foo ", "\r\n", "\x85", "\ufeff", ": |-\n", ">+2\n", "-1", "'it''s'",
          '"\\x41"', '"\\u00e9"', "@", "`", "%TAG ! tag:x,2000:\n", "=", ".inf", "2025-06-01", "0o17", "+12"]


@settings(max_examples=examples(400), **SETTINGS)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_random_yaml_like_text_gets_the_same_answer_or_the_same_error(text):
    assert _outcome(text, True) == _outcome(text, False)
