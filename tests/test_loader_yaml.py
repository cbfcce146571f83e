"""YAML reading pitfalls that would silently change an answer."""
from __future__ import annotations

from exportkb.case.loader import case_from_data, parse_yaml

DOC = """
case: yaml-pitfalls
date: 2025-06-01
to: NO
items:
  - id: w
    eccn: 4E091
  - id: chips
    eccn: 3A090.a
    quantity: 1_000
    tpp: 15832
parties:
  - id: 1
    role: ultimate_consignee
    country: NO
"""


def test_norway_eccn_4e091_and_numbers_are_read_as_written(kb):
    data, lines = parse_yaml(DOC, "pitfalls.yaml")
    case = case_from_data(data, kb, "pitfalls.yaml", lines)
    assert case.to == "NO"                      # YAML 1.1 would read False
    assert case.items[0].eccn == "4E091"        # YAML 1.2 would read 4 x 10^91
    assert case.items[1].quantity == 1000       # digit separators
    assert case.parties[0].id == "1"            # an id stays text
    assert case.line_of("items[1].tpp") == 11  # DOC starts with a newline


def test_ordinary_anchors_and_aliases_still_read(kb):
    """The alias-bomb bound counts expanded values; a case that reuses a party through an alias loads."""
    doc = ("case: aliases\ndate: 2025-06-01\nto: DE\nitems:\n  - &chip {id: a, eccn: 3A090.a, quantity: 2}\n"
           "parties:\n  - &p {id: p1, role: ultimate_consignee, country: DE}\n  - {id: p2, role: end_user, country: DE}\n")
    data, lines = parse_yaml(doc, "aliases.yaml")
    case = case_from_data(data, kb, "aliases.yaml", lines)
    assert case.items[0].quantity == 2 and case.parties[0].id == "p1"
    assert case.line_of("parties[1]") == 8 and case.line_of("items[0].quantity") == 5


def test_a_key_does_not_take_its_mappings_line():
    _, lines = parse_yaml("items:\n  - id: a\n    eccn: 3A090.a\n", "l.yaml")
    assert lines["items[0]"] == 2 and lines["items[0].eccn"] == 3
