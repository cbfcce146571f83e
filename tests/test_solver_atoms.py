"""The fast reader of shown atoms must read exactly what clingo's symbol API reads."""
from __future__ import annotations

import clingo
from hypothesis import given, settings, strategies as st

from exportkb.kb import python_value
from exportkb.solve.atoms import parse_flat

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
args = st.one_of(texts.map(clingo.String), st.integers(-2**31, 2**31 - 1).map(clingo.Number),
                 st.sampled_from(["aia", "lpp", "worldwide_a", "rf28"]).map(clingo.Function))


@settings(max_examples=300, deadline=None)
@given(st.lists(args, min_size=1, max_size=5))
def test_fast_reader_agrees_with_symbol_api(arguments):
    sym = clingo.Function("exception_available", arguments)
    parsed = parse_flat(str(sym))
    assert parsed is not None
    name, values = parsed
    assert name == sym.name
    assert values == [python_value(a) for a in sym.arguments]


def test_nested_terms_fall_back():
    sym = clingo.Function("figure", [clingo.String("c"), clingo.Function("", [clingo.Number(1), clingo.Number(2)])])
    assert parse_flat(str(sym)) is None
