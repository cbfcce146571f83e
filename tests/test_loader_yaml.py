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
