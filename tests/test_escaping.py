"""Hostile ids in every output target (issue 12 item 15): one id is one line, no terminal
sequence, no HTML or link injected into Markdown / mermaid / HTML, no quote breaking a DOT label.

Each test renders the same case twice — with a hostile item id and with a plain one — and
checks the hostile rendering has no raw control character (or raw HTML) and exactly as many
lines as the plain one. The goldens in tests/golden (plain ids) pin that plain output is unchanged.
"""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from exportkb import escape
from exportkb.cli import main
from exportkb.explain import Explainer
from exportkb.explain.html import render_html
from exportkb.case.loader import load_case

HOSTILE = ["a\nWHY forged ✔", "\x1b[2J", "<script>alert(1)</script>", "x](javascript:alert(1))", "a|b",
           "\u202egpu", "[/]", "q\"uo\\te\r\x85\u2028"]
IDS = ["newline", "esc", "script", "md-link", "pipe", "bidi", "rich-markup", "quote-cr-nel-ls"]
PLAIN = "gpus"
# Control characters that must never reach a text rendering raw (C0 but none of our own \n, DEL, C1,
# line/paragraph separators, bidi controls).
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _case_file(tmp_path, item_id: str, name: str):
    data = {"case": "hostile", "date": "2025-06-01", "transaction": "export", "from": "US", "to": "DE",
            "end_use": "datacenter_services",
            "items": [{"id": item_id, "eccn": "3A090.a", "quantity": 500, "tpp": 15832}],
            "parties": [{"id": "de-cloud", "role": "ultimate_consignee", "country": "DE", "headquarters": "DE",
                         "ultimate_parent_headquarters": "DE"}]}
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def explainer(kb) -> Explainer:
    return Explainer(kb)


def _proofs(kb, explainer, tmp_path, item_id, name):
    case = load_case(_case_file(tmp_path, item_id, name), kb)
    return explainer.case(case).determinations()


@pytest.fixture(scope="module")
def plain(kb, explainer, tmp_path_factory):
    return _proofs(kb, explainer, tmp_path_factory.mktemp("plain"), PLAIN, "plain")


def _render(proofs, fmt: str) -> str:
    return "".join(p.render(fmt) for p in proofs)


@pytest.mark.parametrize("hostile", HOSTILE, ids=IDS)
@pytest.mark.parametrize("fmt", ["text", "markdown", "mermaid", "dot"])
def test_explain_renderings_keep_one_id_on_one_line(kb, explainer, plain, tmp_path, hostile, fmt):
    proofs = _proofs(kb, explainer, tmp_path, hostile, "hostile")
    out, ref = _render(proofs, fmt), _render(plain, fmt)
    assert not RAW_CONTROL.search(out), repr(RAW_CONTROL.search(out))
    assert out.count("\n") == ref.count("\n")
    assert not any(line.startswith("WHY forged") for line in out.splitlines())
    if fmt in ("markdown", "mermaid"):
        assert "<script" not in out
        assert not re.search(r"(?<!\\)\]\(javascript", out)  # no Markdown link can be formed
    if fmt == "markdown" and hostile == "a|b":
        assert "a\\|b" in out
    if fmt == "mermaid":
        for line in out.splitlines():
            assert re.fullmatch(r'flowchart TD|  n\d+\["[^"]*"\]|  n\d+ --> n\d+', line), line
    if fmt == "dot":
        for line in out.splitlines():
            if "label=" in line:
                assert re.fullmatch(r'  n\d+ \[label="(?:[^"\\]|\\.)*", color=\w+\];', line), line


@pytest.mark.parametrize("hostile", HOSTILE, ids=IDS)
def test_html_page_escapes_every_case_string(kb, explainer, tmp_path, hostile):
    proofs = _proofs(kb, explainer, tmp_path, hostile, "hostile")
    page = render_html(proofs)
    assert "<script>alert" not in page
    assert not RAW_CONTROL.search(page)
    assert 'href="javascript' not in page


@pytest.mark.parametrize("hostile", HOSTILE, ids=IDS)
def test_check_table_keeps_one_id_on_one_line(tmp_path, hostile):
    runner = CliRunner()
    env = {"COLUMNS": "400"}  # no cell folding: any extra line would be a forged one
    ref = runner.invoke(main, ["check", str(_case_file(tmp_path, PLAIN, "plain"))], env=env)
    got = runner.invoke(main, ["check", str(_case_file(tmp_path, hostile, "hostile"))], env=env)
    assert ref.exit_code == 0 and got.exit_code == 0, got.output
    assert not RAW_CONTROL.search(got.output), repr(got.output)
    assert got.output.count("\n") == ref.output.count("\n"), got.output
    assert escape.text(hostile) in got.output  # the whole id on one line, control characters shown
    assert "Traceback" not in got.output


def test_each_target_function_neutralises_the_hostile_ids():
    for h in HOSTILE:
        assert "\n" not in escape.text(h) and not RAW_CONTROL.search(escape.text(h))
        md = escape.markdown(h)
        assert "<script" not in md and "|" not in md.replace("\\|", "") and "](" not in md.replace("\\](", "")
        mm = escape.mermaid(h)
        assert not re.search(r'["<>`]', mm)
        assert not re.search(r'(?<!\\)"', escape.dot(h).replace('\\\\', ""))
        assert "<" not in escape.html(h) and not RAW_CONTROL.search(escape.html(h))
    assert escape.text("\x1b[2J") == "\\x1b[2J" and escape.text("\u202egpu") == "\\u202egpu"
    assert escape.text("a\nb\r\tc") == "a\\nb\\r\\tc"
    assert escape.mermaid('#"<>&') == "#35;#quot;#lt;#gt;#amp;"


def test_plain_text_is_unchanged_by_every_target():
    """What the KB's sentences and plain ids contain stays byte-identical (the goldens rely on it)."""
    plain = "item gpus: 20250601 >= 20250113, export != service; items[0].eccn — tests/cases/x.yaml:4 (a & b <= c)"
    assert escape.text(plain) == plain
    assert escape.markdown(plain) == plain
    assert escape.dot(plain) == plain
    assert escape.rich(plain) == plain


def test_error_messages_do_not_emit_terminal_sequences(tmp_path):
    """An error quoting a path or id shows its control characters escaped, not raw on stderr."""
    missing = str(tmp_path / "\x1b]0;pwned\x07\x1b[2J.yaml")
    got = CliRunner().invoke(main, ["check", missing])
    assert got.exit_code == 2
    assert "\x1b" not in got.output and "\x07" not in got.output, repr(got.output)
    assert "\\x1b]0;pwned" in got.output


def test_verify_report_lines_escape_the_proof_strings(tmp_path):
    case = _case_file(tmp_path, "a\nWHY forged ✔", "hostile")
    data = json.loads(case.read_text(encoding="utf-8"))
    data["case"] = "\x1b[2Jc"
    case.write_text(json.dumps(data), encoding="utf-8")
    proof = tmp_path / "proof.json"
    runner = CliRunner()
    made = runner.invoke(main, ["explain", str(case), "--why", 'license_required("a\\nWHY forged ✔")',
                                "--format", "json"])
    assert made.exit_code == 0, made.output
    proof.write_text(made.stdout, encoding="utf-8")
    got = runner.invoke(main, ["verify", str(proof), "--case", str(case)])
    assert got.exit_code == 0, got.output
    assert not RAW_CONTROL.search(got.output) and got.output.count("\n") == 1, repr(got.output)
    assert got.output.startswith("valid why ")
