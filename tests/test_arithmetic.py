"""Exact TPP arithmetic (issue 12, item 1): the KB's determination equals arbitrary-precision Python.

clingo integers are 32-bit and wrap silently; the KB carries every TPP magnitude
as millions and units (exportkb.case.exact, kb/README.md "Exact arithmetic"). These
tests compute the legal sums and comparisons here with Python integers — LPP cap
(740.29(a)), country allocation with uplift (90 FR 4544), AIA certification
(740.27(c)), UVEU shares (Supp. 10 para 6), NVEU H100-equivalents (748.15(a)(2)(iii)(B))
— and demand the KB's determination and figures agree, over random multi-item
cases with quantities and usage figures far beyond 2^31, up to the bound 10^15.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exportkb.case import exact
from exportkb.errors import CaseError
from exportkb.case.loader import case_from_data
from exportkb.solve.laws import ReformCache

from .strategies import SETTINGS, examples

H100 = 15832
LPP_CAP, ALLOCATION, AIA_CERT = 26_900_000, 790_000_000, 253_000_000
BOUND = exact.TPP_BOUND


# --------------------------------------------------------------------------- the representation
def test_split_join_round_trip_at_boundaries():
    for v in (0, 1, 999_999, 10**6, 26_900_000, 790_000_000, 2**31 - 1, 2**31, 2**31 + 1, 10**12, BOUND):
        h, lo = exact.split(v)
        assert 0 <= lo < exact.LIMB and exact.join(h, lo) == v
    with pytest.raises(ValueError):
        exact.split(BOUND + 1)


def test_figure_value_reads_millions_terms_of_either_sign():
    assert exact.figure_value("millions(26,900000)") == 26_900_000
    assert exact.figure_value("millions(-2377,-600000)") == -2_377_600_000
    assert exact.figure_value("millions(1000000000,0)") == BOUND
    assert exact.figure_value(20260115) == 20260115 and exact.figure_value("lpp") == "lpp"


#: 742.6(b)(10)(iii)(C) raises the allocation only for Supp. No. 5 paragraph (b) destinations. Their
#: list is UNVERIFIED and ships empty, so the uplift arithmetic is checked under the hypothetical
#: reform that lists Saudi Arabia and the UAE there (queries/reforms/supp5b-sa-ae-hypothetical.lp).
#: 740.2(a)(9)(ii) as written bars LPP to D:1/D:4 destinations not in A:5/A:6, the UAE and Saudi Arabia
#: among them (note lpp_740_2_gap); the LPP cap arithmetic is checked under the reform that reads the
#: gap closed (queries/reforms/lpp-740-2-gap-closed), as tests/cases/allocations do.
SUPP5B_REFORM = ("supp5b-sa-ae-hypothetical", "lpp-740-2-gap-closed")
SUPP5B_HYPOTHETICAL = {"SA", "AE"}


@pytest.fixture(scope="module")
def supp5b_solver(kb):
    return ReformCache(kb).solver(SUPP5B_REFORM)


# --------------------------------------------------------------------------- the Python reference
def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def reference(data: dict) -> dict:
    """What the regulation gives for the generated case shape (see :func:`cases`), in Python integers."""
    shipped = sum(it["quantity"] * it["tpp"] for it in data["items"])
    use = data.get("usage_this_year", {})
    veu = data["parties"][0].get("veu", "none")
    out: dict = {"exceptions": set(), "obligations": set(), "notes": set(), "figures": {}}
    fig = out["figures"]
    lpp_total = use.get("lpp_tpp", 0) + shipped
    fig["lpp_tpp_with_shipment"] = lpp_total
    if lpp_total <= LPP_CAP:
        out["exceptions"].add("LPP")
        if lpp_total >= LPP_CAP:
            out["obligations"].add("lpp_notify_bis_cap_reached")
    uplift = min(data.get("government_commitment_percent", 0), 100) if data["to"] in SUPP5B_HYPOTHETICAL else 0
    allocation = ALLOCATION * (100 + uplift) // 100
    after = use.get("country_allocation_tpp", 0) + shipped
    fig.update(allocation_tpp=allocation, allocation_after_this_shipment=after, allocation_this_shipment=shipped,
               allocation_remaining=allocation - after)
    if after > allocation:
        out["notes"].add("allocation_exceeded")
        fig["allocation_exceeded_by"] = after - allocation
    if veu == "universal":
        total = use.get("veu_total_tpp", 0) + shipped
        site = use.get("veu_installed_tpp", 0) + shipped
        supp5a, us = use.get("veu_supp5a_tpp", 0), use.get("veu_us_tpp", 0)
        cap = 7 * total // 100
        fig.update(uveu_total_after_tpp=total, uveu_destination_after_tpp=site, uveu_destination_cap_tpp=cap,
                   uveu_supp5a_after_tpp=supp5a, uveu_us_after_tpp=us)
        if site <= cap and supp5a >= ceil_div(75 * total, 100) and us >= ceil_div(50 * total, 100):
            out["exceptions"].add("VEU-UNIVERSAL")
    if veu == "national":
        installed = use.get("veu_installed_tpp", 0) + shipped
        h100eq = ceil_div(installed, H100)
        fig.update(nveu_installed_after_tpp=installed, nveu_installed_after_h100eq=h100eq)
        if h100eq <= 100_000:
            out["exceptions"].add("VEU-NATIONAL")
    fig["allocation_lpp_route_tpp"] = shipped if "LPP" in out["exceptions"] else 0
    fig["allocation_veu_route_tpp"] = shipped if out["exceptions"] & {"VEU-UNIVERSAL", "VEU-NATIONAL"} else 0
    return out


def near(target: int):
    """A value at, just beside, or anywhere around a legal threshold (never negative)."""
    return st.one_of(st.integers(-2, 2).map(lambda d: max(0, target + d)), st.integers(0, max(0, 2 * target)))


@st.composite
def cases(draw) -> dict:
    """Export of 1-4 .a-level lines from the U.S. to an allocation destination outside Supp. 5(a) and D:5,
    to one ultimate consignee that holds no, universal or national Data Center VEU status (on 2025-09-01,
    security on track). Quantities, per-unit TPP and usage figures range up to the bound 10^15."""
    to = draw(st.sampled_from(["AE", "SA", "IN", "MY"]))
    veu = draw(st.sampled_from(["none", "universal", "national"]))
    n = draw(st.integers(1, 4))
    room = BOUND
    items = []
    for i in range(n):
        tpp = draw(st.one_of(st.just(H100), st.integers(4800, 2_000_000), st.integers(4800, exact.INT32_MAX)))
        top = min(exact.INT32_MAX, room // (tpp * (n - i)))
        q = draw(st.one_of(st.integers(0, min(top, 2000)), st.integers(0, top)))
        room -= q * tpp
        items.append({"id": f"i{i}", "eccn": "3A090.a", "quantity": q, "tpp": tpp})
    shipped = BOUND - room
    spare = BOUND - shipped

    def usage(threshold: int) -> int:
        return min(spare, draw(st.one_of(near(max(0, threshold - shipped)), st.integers(0, spare))))

    party = {"id": "p", "role": "ultimate_consignee", "country": to, "veu": veu, "meets_supp10_security": True,
             "headquarters": "US" if veu == "universal" else to}
    use = {"lpp_tpp": usage(LPP_CAP), "country_allocation_tpp": usage(ALLOCATION * 2 if draw(st.booleans()) else ALLOCATION)}
    if veu == "universal":
        total = usage(draw(st.integers(0, 10**13)))
        t_after = total + shipped
        below = max(0, 7 * t_after // 100 - shipped)
        installed = draw(st.one_of(st.integers(0, below), near(below))) if 7 * t_after // 100 >= shipped else usage(0)
        share = st.one_of(st.integers(-1, 1), st.integers(0, 10**9))  # at the floor, or anywhere above it
        use.update(veu_total_tpp=total, veu_installed_tpp=min(spare, installed),
                   # each usage figure plus the shipment stays within the bound (the loader refuses more)
                   veu_supp5a_tpp=min(spare, max(0, ceil_div(75 * t_after, 100) + draw(share))),
                   veu_us_tpp=min(spare, max(0, ceil_div(50 * t_after, 100) + draw(share))))
    if veu == "national":
        use["veu_installed_tpp"] = usage(100_000 * H100)
    data = {"case": "arith", "date": "2025-09-01", "transaction": "export", "from": "US", "to": to,
            "items": items, "parties": [party], "usage_this_year": use}
    if draw(st.booleans()):
        data["government_commitment_percent"] = draw(st.sampled_from([0, 1, 37, 50, 99, 100, 101, 150]))
    return data


def observed(det) -> dict:
    exceptions = {x for it in det.items.values() for x in it.exceptions_available} & {"LPP", "VEU-UNIVERSAL", "VEU-NATIONAL"}
    per_item = [set(it.exceptions_available) & {"LPP", "VEU-UNIVERSAL", "VEU-NATIONAL"} for it in det.items.values()]
    assert all(p == exceptions for p in per_item), "an exception of a shipment-wide cap differs between items"
    obligations = {o for it in det.items.values() for o in it.obligations} & {"lpp_notify_bis_cap_reached"}
    return {"exceptions": exceptions, "obligations": obligations, "notes": set(det.notes) & {"allocation_exceeded"},
            "figures": det.figures}


@settings(max_examples=examples(120), **SETTINGS)
@given(data=cases())
def test_determination_equals_python_big_integers(kb, supp5b_solver, data):
    case = case_from_data(data, kb)
    want, got = reference(data), observed(supp5b_solver.determine(case))
    assert got["exceptions"] == want["exceptions"]
    assert got["obligations"] == want["obligations"]
    assert got["notes"] == want["notes"]
    for name, value in want["figures"].items():
        assert got["figures"].get(name) == value, name
    assert ("allocation_exceeded_by" in got["figures"]) == ("allocation_exceeded_by" in want["figures"])


@settings(max_examples=examples(60), **SETTINGS)
@given(quantities=st.lists(st.integers(0, exact.INT32_MAX), min_size=1, max_size=4),
       tpps=st.lists(st.integers(1, exact.INT32_MAX), min_size=4, max_size=4), before=near(AIA_CERT))
def test_aia_certification_threshold_matches_python(kb, solver, quantities, tpps, before):
    """740.27(c): the BIS certification is due once the cumulative AIA TPP reaches 253,000,000."""
    items, room = [], BOUND
    for i, q in enumerate(quantities):
        q = min(q, room // tpps[i])
        room -= q * tpps[i]
        # designer_approved: 740.27(a)(1) — without it AIA is only conditional (the arithmetic is the subject here)
        items.append({"id": f"i{i}", "eccn": "3A090.a", "quantity": q, "tpp": max(tpps[i], 4800), "designer_approved": True})
    shipped = sum(it["quantity"] * it["tpp"] for it in items)
    if shipped > BOUND:
        return  # the raised TPP (4,800 minimum for a .a item) pushed it over: the loader's job, tested below
    before = min(before, BOUND - shipped)
    data = {"case": "aia", "date": "2025-06-01", "transaction": "export", "from": "US", "to": "NL", "items": items,
            "parties": [{"id": "c", "role": "ultimate_consignee", "country": "NL"}],
            "usage_this_year": {"aia_cumulative_tpp": before}}
    det = solver.determine(case_from_data(data, kb))
    due = before + shipped >= AIA_CERT
    for it in det.items.values():
        assert "AIA" in it.exceptions_available
        assert ("aia_submit_certification_to_bis" in it.obligations) == due


# --------------------------------------------------------------------------- fixed boundaries
def one_case(shipped_lines: list[tuple[int, int]], **usage: int) -> dict:
    return {"case": "b", "date": "2025-06-01", "transaction": "export", "from": "US", "to": "AE",
            "government_commitment_percent": 100,
            "items": [{"id": f"i{n}", "eccn": "3A090.a", "quantity": q, "tpp": t} for n, (q, t) in enumerate(shipped_lines)],
            "parties": [{"id": "p", "role": "ultimate_consignee", "country": "AE"}], "usage_this_year": usage}


@pytest.mark.parametrize("after", [26_900_000, 26_900_001, 790_000_000, 790_000_001, 1_580_000_000, 1_580_000_001,
                                   2**31 - 1, 2**31, 2**31 + 1, 10**12, BOUND])
def test_boundaries_solve_exactly_on_both_grounding_paths(kb, supp5b_solver, after):
    """The same figures from the single-case (residual) path and the batch (chunk) path."""
    data = one_case([(100_000, H100)] if after > 100_000 * H100 else [(1, 4800)],
                    country_allocation_tpp=after - (100_000 * H100 if after > 100_000 * H100 else 4800),
                    lpp_tpp=after - (100_000 * H100 if after > 100_000 * H100 else 4800))
    case = case_from_data(data, kb)
    want = reference(data)
    for det in (supp5b_solver.determine(case), next(iter(supp5b_solver.determine_many([case])))):
        got = observed(det)
        assert got["exceptions"] == want["exceptions"] and got["notes"] == want["notes"]
        for name in ("lpp_tpp_with_shipment", "allocation_after_this_shipment", "allocation_remaining", "allocation_exceeded_by"):
            assert got["figures"].get(name) == want["figures"].get(name), name


def test_two_lines_of_100000_h100_to_ae_do_not_wrap(kb, solver):
    """The issue's case: 2 x 100,000 x 15,832 = 3,166,400,000 used to wrap to a negative total (LPP "available")."""
    data = one_case([(100_000, H100), (100_000, H100)])
    del data["government_commitment_percent"]
    det = solver.determine(case_from_data(data, kb))
    assert all("LPP" not in it.exceptions_available for it in det.items.values())
    assert "allocation_exceeded" in det.notes
    assert det.figures["allocation_this_shipment"] == 3_166_400_000
    assert det.figures["allocation_exceeded_by"] == 3_166_400_000 - ALLOCATION


@pytest.mark.parametrize("lines, usage, field", [
    ([(1_000_000_000, 1_000_001)], {}, "items[0].quantity"),                    # one line beyond 10^15
    ([(1_000_000_000, 600_000)] * 2, {}, "items"),                              # lines within, their sum beyond
    ([(1000, H100)], {"lpp_tpp": BOUND - 1000 * H100 + 1}, "usage_this_year.lpp_tpp"),  # usage + shipment = 10^15 + 1
    ([(1, exact.INT32_MAX + 1)], {}, "items[0].tpp"),
    ([(exact.INT32_MAX + 1, 1)], {}, "items[0].quantity"),
])
def test_beyond_the_bound_is_refused_naming_the_field(kb, lines, usage, field):
    with pytest.raises(CaseError) as info:
        case_from_data(one_case(lines, **usage), kb)
    assert any(p.path == field for p in info.value.problems), [p.path for p in info.value.problems]


def test_exactly_the_bound_is_accepted(kb, solver):
    det = solver.determine(case_from_data(one_case([(1000, H100)], country_allocation_tpp=BOUND - 1000 * H100), kb))
    assert det.figures["allocation_after_this_shipment"] == BOUND


def test_too_many_item_lines_is_refused(kb):
    data = one_case([(1, 4800)] * (exact.MAX_ITEMS + 1))
    with pytest.raises(CaseError) as info:
        case_from_data(data, kb)
    assert any(p.path == "items" for p in info.value.problems)


def test_params_stay_within_what_the_rules_assume(kb):
    """The KB's overflow arguments assume every TPP parameter < 2^31, percentages in 0..100 and one
    H100-equivalent at most 2,147,483 TPP (the long division's remainder x 1000 stays below 2^31)."""
    from exportkb.analysis.counterfactual import KBFacts
    facts = KBFacts(kb)
    for name in ("lpp_annual_cap_tpp", "lpp_notification_tpp", "country_allocation_tpp", "aia_bis_certification_tpp"):
        for day in (20250601, 20260601, 20270601):
            assert all(0 <= v <= exact.INT32_MAX for v in facts.param_values(name, day))
    for name in ("uveu_min_pct_us_for_us_hq", "uveu_min_pct_supp5a", "uveu_max_pct_single_non_supp5a",
                 "country_allocation_max_uplift_percent"):
        assert all(0 <= v <= 100 for v in facts.param_values(name, 20250901))
    assert all(1 <= v <= exact.MAX_TPP_PER_H100_EQUIVALENT for v in facts.param_values("nveu_tpp_per_h100_equivalent", 20250901))
