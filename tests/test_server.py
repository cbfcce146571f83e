"""The HTTP server (`exportkb serve`) through Starlette's ASGI test client: every endpoint answers what
the CLI answers for the same case, bad input is a 422 with the CLI's field-level message, and the
limits (body size, time, named reforms only, CSP, escaping) hold."""
from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from click.testing import CliRunner  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

import exportkb.cli as cli  # noqa: E402
from exportkb.kb import KnowledgeBase  # noqa: E402
from exportkb.explain.proof import Proof  # noqa: E402
from exportkb.explain.verify import Checker  # noqa: E402
from exportkb.server.app import CSP, case_token, create_app, token_text  # noqa: E402
from exportkb.server.service import ServerOptions  # noqa: E402
from exportkb.solve.laws import ready_from_data  # noqa: E402
from exportkb.suites.runner import expected_error  # noqa: E402

from .conftest import CASES, ROOT  # noqa: E402

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
UAE = ROOT / "examples" / "uae-datacenter.yaml"
BAD = CASES / "bad"


@pytest.fixture(scope="module")
def client(kb):
    # the repository's cases, named: an installed wheel (as CI installs it) has no tests/cases beside its KB
    with TestClient(create_app(kb, ServerOptions(cases_dir=CASES))) as c:
        yield c


def cli_json(kb, monkeypatch, *args: str):
    monkeypatch.setattr(cli.common, "KnowledgeBase", SimpleNamespace(load=lambda path=None: kb))
    res = CliRunner().invoke(cli.main, list(args))
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.output)


ENTITY_LIST = Path(__file__).resolve().parents[1] / "kb" / "parties" / "entity_list.lp"


def cli_text(kb, monkeypatch, *args: str) -> str:
    monkeypatch.setattr(cli.common, "KnowledgeBase", SimpleNamespace(load=lambda path=None: kb))
    res = CliRunner().invoke(cli.main, list(args))
    assert res.exit_code == 0, res.output
    return res.stdout


def yaml_post(client, text: str | bytes):
    return client.post("/api/check", content=text if isinstance(text, bytes) else text.encode(),
                       headers={"content-type": "application/yaml"})


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_check_is_the_cli_object(client, kb, monkeypatch, path):
    got = yaml_post(client, path.read_bytes())
    assert got.status_code == 200
    assert got.json() == cli_json(kb, monkeypatch, "check", str(path), "--json")


def test_check_json_body_equals_yaml_body(client):
    from exportkb.case.loader import read_document
    data, _ = read_document(UAE)
    as_json = client.post("/api/check", content=json.dumps(data, default=str), headers={"content-type": "application/json"})
    assert as_json.status_code == 200
    assert as_json.json() == yaml_post(client, UAE.read_bytes()).json()


@pytest.mark.parametrize("stem", ["unknown-country", "date-not-a-date", "unknown-key", "negative-quantity",
                                  "quantity-times-tpp-overflow", "invalid-yaml", "reform-is-a-path", "reform-unknown",
                                  "yaml-recursive-alias", "duplicate-key", "non-utf8", "empty"])
def test_bad_input_is_422_with_the_cli_message(client, stem):
    path = next(p for p in BAD.iterdir() if p.stem == stem and not p.name.endswith(".expected.txt"))
    r = yaml_post(client, path.read_bytes())
    assert r.status_code == 422, r.text
    body = r.json()
    assert "Traceback" not in r.text
    for fragment in expected_error(path):
        assert fragment in body["error"], (fragment, body["error"])
    assert str(path) not in body["error"] and "<request>" in body["error"]


def test_field_problems_are_structured(client):
    r = yaml_post(client, UAE.read_text().replace("to: AE", "to: XX"))
    assert r.status_code == 422
    probs = r.json()["problems"]
    assert [p["path"] for p in probs] == ["to"] and probs[0]["line"] == 6 and probs[0]["fix"]


def test_reform_names_only_never_a_path(client):
    text = UAE.read_text().replace("expect:", "reform: [../../etc/passwd]\nexpect:", 1)
    r = yaml_post(client, text)
    assert r.status_code == 422 and "reform" in r.json()["error"]


def test_explain_proof_is_accepted_by_the_checker(client, kb):
    text = UAE.read_text()
    r = client.post("/api/explain", json={"case_yaml": text, "goal": "LPP", "item": "gpus"})
    assert r.status_code == 200
    doc = r.json()
    assert doc["kind"] == "why_not" and doc["goal"] == "exception_available(gpus, lpp)"
    from exportkb.case.loader import parse_yaml
    data, lines = parse_yaml(text, "<request>")
    rc = ready_from_data(data, kb, "<request>", lines)
    assert Checker(rc.kb, rc.case).check(Proof.from_json(doc)) == []
    # a forged step is refused by the same checker: the test can fail
    doc["atom"] = doc["atom"].replace("lpp", "aia")
    assert Checker(rc.kb, rc.case).check(Proof.from_json(doc)) != []


def test_explain_all_and_unknown_item(client):
    r = client.post("/api/explain", json={"case_yaml": UAE.read_text()})
    assert r.status_code == 200 and isinstance(r.json(), list)
    assert {p["goal"] for p in r.json()} >= {"license_required(gpus)"}
    bad = client.post("/api/explain", json={"case_yaml": UAE.read_text(), "goal": "LPP", "item": "h100"})
    assert bad.status_code == 422 and "'h100' is not an item" in bad.json()["error"]
    assert client.post("/api/explain", content=b"[1]").status_code == 422
    assert client.post("/api/explain", json={"goal": "LPP"}).status_code == 422


def test_whatif_rows(client):
    r = client.post("/api/whatif", json={"case_yaml": UAE.read_text(), "axes": {"to": ["DE", "CN"]}})
    assert r.status_code == 200
    rows = {row["to"]: row for row in r.json()["rows"]}
    # Germany is a 740 Supp. No. 5 paragraph (a) destination: AIA (15 CFR 740.27) authorizes; China is D:5.
    # 740.27(a)(1): the example does not state the 3A090.a designer's approval, so AIA is conditional in DE
    assert "AIA" in rows["DE"]["exceptions_conditional"] and "AIA" not in rows["DE"]["exceptions_available"]
    assert rows["CN"]["license_required"] is True and rows["CN"]["exceptions_available"] == ""
    too_many = client.post("/api/whatif", json={"case_yaml": UAE.read_text(), "axes": {"quantity": list(range(1000))}})
    assert too_many.status_code == 422 and "scenarios" in too_many.json()["error"]


def test_provisions_schema_openapi(client, kb):
    ps = client.get("/api/provisions").json()["provisions"]
    assert len(ps) == len({r.id for r in kb.rules})
    one = client.get("/api/provisions/lpp.available").json()
    assert one["cite"].startswith("15 CFR 740.29") and one["cases"], one
    assert client.get("/api/provisions/no.such").status_code == 422
    from exportkb.case.schema import case_schema
    assert client.get("/api/schema").json() == case_schema(kb)
    spec = client.get("/api/openapi.json").json()
    assert {"/api/check", "/api/explain", "/api/whatif", "/api/provisions", "/api/provisions/{rule_id}",
            "/api/schema", "/healthz"} <= set(spec["paths"])
    assert client.get("/healthz").json() == {"status": "ok", "kb_version": kb.version}


def test_limits_body_size_and_time(kb):
    with TestClient(create_app(kb, ServerOptions(max_body_bytes=2048))) as c:
        r = c.post("/api/check", content=b"#" * 4096, headers={"content-type": "application/yaml"})
        assert r.status_code == 413 and "Traceback" not in r.text
    with TestClient(create_app(kb, ServerOptions(time_limit=1e-6))) as c:
        r = c.post("/api/explain", json={"case_yaml": UAE.read_text()})
        assert r.status_code == 503 and "time limit" in r.json()["error"]


def test_every_response_has_the_csp(client):
    for r in (client.get("/"), client.get("/healthz"), client.get("/static/app.js"), yaml_post(client, b"x: [")):
        assert r.headers["content-security-policy"] == CSP
    assert "unsafe-inline" not in CSP and "http" not in CSP


def _result(client, text: str):
    r = client.post("/check", content=("yaml=" + urllib.parse.quote(text)).encode(),
                    headers={"content-type": "application/x-www-form-urlencoded"}, follow_redirects=False)
    assert r.status_code == 303
    return client.get(r.headers["location"]), r.headers["location"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_page_shows_summary_then_proofs(client, path):
    page, url = _result(client, path.read_text())
    assert page.status_code == 200
    html = page.text
    assert html.index('id="summary"') < html.index('class="proof"')
    assert "<script>" not in html.replace('<script src="/static/app.js" defer></script>', "")
    assert "style=" not in html and "onclick" not in html          # the CSP allows no inline code
    assert "https://www.ecfr.gov/current/title-15/section-" in html
    assert "19000101" not in html and "99991231" not in html
    # the link is shareable: it carries the case itself
    assert token_text(urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["c"][0]) == path.read_text()


def test_page_escapes_user_strings(client):
    text = UAE.read_text().replace("id: uae-dc", "id: \"<script>alert('x')</script>\"").replace(
        "title: 2,000", "title: <img src=x onerror=alert(1)> 2,000")
    page, _ = _result(client, text)
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(" in page.text


def test_why_not_page_and_whatif_world_view(client):
    token = case_token(UAE.read_text())
    wn = client.get(f"/result/why-not?c={token}&item=gpus&x=lpp")
    assert wn.status_code == 200 and "740.29" in wn.text and "exception_available(gpus, lpp)" in wn.text
    world = client.get(f"/result/whatif?c={token}&axis=to&values=ALL")
    assert world.status_code == 200 and "The world view" in world.text
    assert re.search(r"<td>DE — Germany</td><td>gpus</td><td>conditional: AIA", world.text)  # 740.27(a)(1) designer unstated
    assert client.get(f"/result/why-not?c={token}&item=gpus&x=nope").status_code == 422
    assert client.get("/result?c=not-a-token!").status_code == 422


def test_form_fields_build_a_case(client):
    form = {"date": "2025-06-01", "transaction": "export", "from": "US", "to": "CN", "end_use": "",
            "eccn": "3A090.a", "quantity": "10", "tpp": "15832", "party_name": "Acme", "party_country": "",
            "party_hq": ""}
    r = client.post("/check", content=urllib.parse.urlencode(form).encode(),
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200
    assert "A license is required for item item1 (3A090.a)" in r.text


def test_provision_page_lists_the_cases(client):
    r = client.get("/provisions/lpp.available")
    assert r.status_code == 200 and "Regression cases in which it fires" in r.text
    case_id = re.search(r'href="/cases/([^"]+)"', r.text).group(1)
    c = client.get(f"/cases/{case_id}")
    assert c.status_code == 200 and "open it in the checker" in c.text
    assert client.get("/cases/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_a_kb_outside_a_checkout_still_offers_the_examples_and_says_it_has_no_cases(tmp_path):
    """As a wheel installs it (CI's layout): the KB folder has no examples/ or tests/cases beside it.
    The form still offers the packaged examples; a provision page says no cases are installed
    rather than 'no case makes it fire'."""
    import shutil
    shutil.copytree(ROOT / "kb", tmp_path / "exportkb" / "kb" / "rules")
    installed = KnowledgeBase.load(tmp_path / "exportkb" / "kb" / "rules")
    with TestClient(create_app(installed)) as c:
        form = c.get("/").text
        assert 'value="uae-datacenter"' in form or "uae-datacenter" in form
        assert "case: uae-datacenter" in c.get("/?example=uae-datacenter").text
        page = c.get("/provisions/lpp.available").text
        assert "has no regression cases to search" in page and "--cases" in page
    with TestClient(create_app(installed, ServerOptions(cases_dir=CASES))) as c:
        assert re.search(r'href="/cases/([^"]+)"', c.get("/provisions/lpp.available").text)


def test_example_in_the_form_round_trips(client):
    """The example's text in the page's textarea, posted back, is the same case (newlines kept)."""
    import html as html_lib
    page = client.get("/?example=uae-datacenter").text
    text = html_lib.unescape(re.search(r'<textarea name="yaml" id="yaml"[^>]*>(.*?)</textarea>', page, re.S).group(1))
    assert text == UAE.read_text()
    result, _ = _result(client, text)
    assert result.status_code == 200 and 'id="summary"' in result.text


def test_load_benchmark_runs_small():
    """benchmarks/server_load.py end to end at a tiny size (the lead runs the full one): real requests
    over loopback to a real uvicorn process, every one answered 200."""
    from benchmarks import server_load
    res = server_load.main(["--clients", "2", "--requests", "10", "--seconds", "30", "--workers", "1", "--warmup", "2"])
    assert res["requests"] == 10 and res["errors"] == 0 and res["requests_per_s"] > 0


def test_load_benchmark_posts_distinct_generated_cases_to_two_workers():
    """--generated N (JSON bodies, no two alike) against `exportkb serve --workers 2`: all answered 200."""
    from benchmarks import server_load
    res = server_load.main(["--clients", "3", "--requests", "12", "--seconds", "60", "--workers", "2", "--warmup", "2",
                            "--generated", "12"])
    assert res["requests"] == 12 and res["errors"] == 0 and res["cases"][0].startswith("12 generated")


@pytest.mark.skipif(__import__("shutil").which("wrk") is None, reason="wrk is not installed")
def test_load_benchmark_with_wrk():
    from benchmarks import server_load
    res = server_load.main(["--clients", "2", "--seconds", "2", "--workers", "1", "--warmup", "2",
                            "--generator", "wrk"])
    assert res["generator"] == "wrk" and res["requests"] > 0 and res["errors"] == 0


# ----------------------------------------------------------------------- POST /api/screen
def test_screen_answers_as_the_cli_over_the_configured_list(kb, monkeypatch, tmp_path):
    """The rows equal `exportkb screen --format jsonl` over the list the server was started with."""
    from exportkb.server.service import ServerOptions
    lst = ENTITY_LIST
    csv = tmp_path / "p.csv"
    csv.write_text("id,name,address,country\np1,SJ Semiconductor Co.,,CN\np2,Acme Bakery GmbH,,DE\n")
    expected = [json.loads(x) for x in cli_text(kb, monkeypatch, "screen", str(csv), "--list", str(lst),
                                                "--no-summary").splitlines() if x.strip()]
    with TestClient(create_app(kb, ServerOptions(screening_list=lst))) as c:
        r = c.post("/api/screen", json={"parties": [
            {"id": "p1", "name": "SJ Semiconductor Co.", "country": "CN"},
            {"id": "p2", "name": "Acme Bakery GmbH", "country": "DE"}]})
    assert r.status_code == 200, r.text
    got = r.json()["results"]
    assert [g["party"] for g in got] == ["p1", "p2"]
    assert got[0]["alert"] is True and got[0]["matches"][0]["list_id"] == "EL-SAMPLE-SJS"
    assert got[1]["alert"] is False
    assert [{k: v for k, v in g.items() if k != "list_version"} for g in got] == \
           [{k: v for k, v in e.items() if k != "list_version"} for e in expected]


def test_screen_without_a_list_or_with_bad_parties_is_422(client, kb):
    from exportkb.server.service import ServerOptions
    r = client.post("/api/screen", json={"parties": [{"id": "p1", "name": "X"}]})
    assert r.status_code == 422 and "exportkb serve --list FILE" in r.text and "Traceback" not in r.text
    with TestClient(create_app(kb, ServerOptions(screening_list=ENTITY_LIST,
                                                 max_parties=2))) as c:
        assert c.post("/api/screen", json={"parties": []}).status_code == 422
        r = c.post("/api/screen", json={"parties": [{"id": "a", "name": 5}]})
        assert r.status_code == 422 and "parties[0].name" in r.text
        r = c.post("/api/screen", json={"parties": [{"id": str(i), "name": "x"} for i in range(3)]})
        assert r.status_code == 422 and "over the limit of 2" in r.text
        # a request cannot name the list file: an unknown "list" key changes nothing
        r = c.post("/api/screen", json={"parties": [{"id": "a", "name": "SJ Semiconductor"}], "list": "/etc/passwd"})
        assert r.status_code == 200 and r.json()["results"][0]["matches"][0]["list_id"] == "EL-SAMPLE-SJS"


def test_not_covered_eccn_reads_unknown_resolve_before_export(client):
    """An ECCN outside the KB's ECCN-specific rules (kb/coverage.lp) is never "no licence": the page
    says unknown — resolve before export, with the KB's reason."""
    case = UAE.read_text().replace("3A090.a", "5A002.a", 1)
    assert "5A002.a" in case
    js = yaml_post(client, case).json()
    it = next(iter(js["items"].values()))
    assert it["coverage"] == "not_covered"
    r = client.post("/check", data={"yaml": case}, follow_redirects=True)
    assert r.status_code == 200
    text = r.text.replace("\u2014", "—")
    assert "outside this knowledge base" in text and "resolve before export" in text
    assert "No license requirement of the provisions" not in text


def test_summary_states_the_review_policy_with_its_citation(client):
    """malaysia-cn-parent: a D:5-headquartered parent; the KB's review policy (15 CFR 742.6(b)(10)(iii)(A)(1)
    in this KB's reading) is a presumption of denial, and the summary says so with that citation."""
    case = (ROOT / "examples" / "malaysia-cn-parent.yaml").read_text()
    it = next(iter(yaml_post(client, case).json()["items"].values()))
    r = client.post("/check", data={"yaml": case}, follow_redirects=True)
    assert "would be reviewed under a presumption of denial" in r.text
    assert it["license_review_policy_cite"] in r.text


def test_proof_stylesheet_has_one_source(client):
    """The page's proof trees look like the standalone HTML proofs because they use the same rules:
    /static/proof.css is explain/html.py's CSS, and app.css does not repeat any of it."""
    from exportkb.explain.html import CSS
    r = client.get("/static/proof.css")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css") and r.text == CSS
    own = client.get("/static/app.css").text
    shared = {line.strip() for line in CSS.splitlines() if line.strip()}
    assert not [line for line in own.splitlines() if line.strip() in shared]
    page = client.get("/").text
    assert page.index('href="/static/proof.css"') < page.index('href="/static/app.css"')


def test_summary_lists_the_figures_in_words_with_units_and_dates(client):
    """The UAE allocation and a UVEU's security deadline on the page as a reader writes them: the
    unit and thousands separators, a date as a date — not the KB's ids or YYYYMMDD."""
    def figures(text: str) -> str:  # the summary's figure list (the page's JSON panel keeps the KB's ids)
        start = text.index('<ul class="figures">')
        return text[start:text.index("</ul>", start)]

    page, _ = _result(client, UAE.read_text())
    shown = figures(page.text)
    assert "allocation remaining: 758,336,000 TPP" in shown and "_" not in shown
    uveu = (ROOT / "tests" / "cases" / "worked_examples" / "we-11-uveu-malaysia.yaml").read_text()
    shown = figures(_result(client, uveu)[0].text)
    assert "VEU security deadline: 15 January 2026" in shown and "20260115" not in shown
