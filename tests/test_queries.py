"""Named analyst queries (queries/*.yaml): loading, parameters, answers the regulation gives."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

pd = pytest.importorskip("pandas")

from exportkb.cli import main  # noqa: E402
from exportkb.analysis.queries import QueryError, list_queries, load_query, run_query  # noqa: E402


@pytest.fixture(scope="module")
def tiers(kb):
    return run_query(load_query("country-tiers"), kb).set_index("country")["tier"]


def test_every_query_is_documented_and_answers(kb):
    queries = list_queries()
    assert len(queries) >= 4
    for q in queries:
        assert q.title and q.description, q.source
        for p in q.params.values():
            assert p.description, f"{q.source}: parameter {p.name} lacks a description"
    # the cheap ones run here; the sweeps over ALL destinations are run below
    assert len(run_query(load_query("country-tiers"), kb)) == len(kb.countries)


def test_tiers_follow_supp5a_and_d5(tiers, kb):
    # Tier 1 = Supp. No. 5 para (a): the U.S. and 18 allies; Tier 3 = D:5 + Macau; Tier 2 = the rest.
    assert (tiers == 1).sum() == 19
    assert tiers["US"] == 1 and tiers["DE"] == 1 and tiers["TW"] == 1
    assert tiers["CN"] == 3 and tiers["MO"] == 3 and tiers["RU"] == 3
    assert tiers["IN"] == 2 and tiers["AE"] == 2 and tiers["SG"] == 2
    assert set(tiers) == {1, 2, 3}


def test_tiers_under_a_reform_overlay(kb):
    t = run_query(load_query("country-tiers"), kb, reforms=("add-india-to-supp5a",)).set_index("country")["tier"]
    assert t["IN"] == 1 and (t == 1).sum() == 20


def test_license_destinations_query(kb):
    df = run_query(load_query("license-destinations-3a090a"), kb).set_index("to")
    # 742.6(a)(6)(iii): a license is required worldwide for 3A090.a; AIA available in Supp. 5(a) (740.27).
    assert "DE" in df.index and "IN" in df.index and "CN" in df.index
    assert "AIA" in df.loc["DE", "exceptions_available"]
    assert "AIA" not in df.loc["IN", "exceptions_available"]


def test_lpp_left_query_stops_at_the_cap(kb):
    # 740.29(a): 26,900,000 TPP per consignee per year; 1699 x 15,832 = 26,898,568 fits, 1700 x 15,832 does not.
    df = run_query(load_query("lpp-tpp-left"), kb, {"used": "0", "quantities": "1699,1700"}).set_index("quantity")
    assert "LPP" in df.loc[1699, "exceptions_available"]
    assert "LPP" not in df.loc[1700, "exceptions_available"]
    if "figure.lpp_annual_cap_tpp" in df.columns:  # reported once the KB concludes LPP figures
        assert df.loc[1699, "figure.lpp_annual_cap_tpp"] == 26_900_000


def test_query_parameter_errors(kb):
    q = load_query("country-tiers")
    with pytest.raises(QueryError, match="unknown parameter"):
        run_query(q, kb, {"dat": "2025-06-01"})
    with pytest.raises(QueryError, match="not a valid date"):
        run_query(q, kb, {"date": "June"})
    with pytest.raises(QueryError, match="no such query"):
        load_query("nope")


def test_cli_query(kb):
    r = CliRunner().invoke(main, ["query", "country-tiers", "--format", "csv"])
    assert r.exit_code == 0 and "DE,Germany,1" in r.output
    r = CliRunner().invoke(main, ["query", "country-tiers", "--param", "date=2025-06-01", "--format", "json"])
    assert {"country": "CN", "name": "China", "tier": 3} in json.loads(r.output)
    r = CliRunner().invoke(main, ["query", "--list"])
    assert r.exit_code == 0 and "country-tiers" in r.output and "no-aia" in r.output
    r = CliRunner().invoke(main, ["query", "country-tiers", "--param", "nodate"])
    assert r.exit_code == 2 and "NAME=VALUE" in r.output


def test_date_columns_are_dates_and_a_wrong_dates_list_is_refused(kb, tmp_path):
    """asp.dates turns the KB's YYYYMMDD integers into dates; naming a column that is not one is an error."""
    import datetime as dt

    good = tmp_path / "g.yaml"
    good.write_text("title: t\ndescription: d\nasp:\n  program: 'd(20250513, x).'\n  show: d/2\n"
                    "  columns: [date, what]\n  dates: [date]\n", encoding="utf-8")
    assert run_query(load_query(str(good)), kb)["date"].tolist() == [dt.date(2025, 5, 13)]
    stray = tmp_path / "s.yaml"
    stray.write_text(good.read_text(encoding="utf-8").replace("dates: [date]", "dates: [when]"), encoding="utf-8")
    with pytest.raises(QueryError, match="asp.dates: when not among the columns"):
        load_query(str(stray))
    text = tmp_path / "x.yaml"
    text.write_text(good.read_text(encoding="utf-8").replace("dates: [date]", "dates: [what]"), encoding="utf-8")
    with pytest.raises(QueryError, match="column 'what' holds 'x', not a YYYYMMDD date"):
        run_query(load_query(str(text)), kb)
    impossible = tmp_path / "i.yaml"
    impossible.write_text(good.read_text(encoding="utf-8").replace("20250513", "20251340"), encoding="utf-8")
    with pytest.raises(QueryError, match="not a YYYYMMDD date"):
        run_query(load_query(str(impossible)), kb)


def test_the_penalties_query_cannot_wrap_with_the_record_as_it_stands(kb):
    """clingo's integers are 32-bit and `#sum` wraps silently (2,000,000,000 + 2,000,000,000 gives
    -294,967,296). `enforcement-penalties-by-year` sums raw U.S. dollars, so the whole record's
    penalties must stay below 2^31; a case that would break this fails here, before a year's total
    turns negative (fix then: sum in thousands and units, as the KB's TPP sums do)."""
    import clingo

    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], (kb.root / "enforcement" / "cases.lp").read_text())
    ctl.ground([("base", [])])
    usd = [a.symbol.arguments[1].number for a in ctl.symbolic_atoms.by_signature("enf_penalty", 2)]
    assert usd and all(v > 0 for v in usd)
    assert sum(usd) < 2**31, f"the record's penalties sum to {sum(usd):,} USD: the yearly #sum could wrap"
    df = run_query(load_query("enforcement-penalties-by-year"), kb)
    assert int(df["total_usd"].sum()) == sum(usd) and (df["total_usd"] > 0).all()  # exact, none wrapped
