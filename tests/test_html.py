"""HTML proofs: self-contained, collapsible, citations linked to the eCFR, case facts with file:line;
rendered in headless Chromium and checked on the screenshot."""
from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from exportkb.cli import main
from exportkb.explain import explain
from exportkb.explain.html import cite_links, render_html
from exportkb.case.loader import load_case

from .conftest import CASES

WE02 = CASES / "aia" / "aia-we02-parent-outside.yaml"
CHROMIUM = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


@pytest.fixture(scope="module")
def page(kb) -> str:
    case = load_case(WE02, kb)
    proofs = [explain(case, "exception_available(gpus, aia)", kb), explain(case, "license_required(gpus)", kb)]
    return render_html(proofs)


@pytest.mark.parametrize("cite, url", [
    ("15 CFR 740.27(a), (a)(1)", "https://www.ecfr.gov/current/title-15/section-740.27"),
    ("15 CFR 742.6(a)(6)(iii)(A) (formerly 744.23(a)(3))", "https://www.ecfr.gov/current/title-15/section-744.23"),
    ("15 CFR 740 Supp. No. 5, paragraph (a)",
     "https://www.ecfr.gov/current/title-15/part-740/appendix-Supplement%20No.%205%20to%20Part%20740"),
    ("paragraphs 14, 15 and 18 of Supplement No. 10 to part 748",
     "https://www.ecfr.gov/current/title-15/part-748/appendix-Supplement%20No.%2010%20to%20Part%20748"),
    ("90 FR 4544 (DATES)", "https://www.federalregister.gov/citation/90-FR-4544"),
])
def test_cite_links(cite, url):
    assert f'href="{url}"' in cite_links(cite)


def test_cite_links_escape_and_leave_other_titles_alone():
    out = cite_links('22 CFR 126.1 <b>"x"</b>')
    assert "<a" not in out and "&lt;b&gt;" in out


def test_page_is_self_contained_and_structured(page):
    assert page.startswith("<!DOCTYPE html>")
    # no resource loaded from anywhere: links to the eCFR are anchors, not sources
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)
    assert "<details" in page and "<summary>" in page
    assert "[aia.parent_hq_outside]" in page  # the rule that blocks AIA in WE-02
    assert 'href="https://www.ecfr.gov/current/title-15/section-740.27"' in page
    # the case fact the answer turns on, with its file and line
    assert "parties[0].ultimate_parent_headquarters" in page
    assert f"{WE02.as_posix()}:21" in page or "aia-we02-parent-outside.yaml:21" in page  # ultimate_parent_headquarters


def test_changed_fields_are_marked(kb):
    case = load_case(WE02, kb)
    proof = explain(case, "exception_available(gpus, aia)", kb)
    out = render_html(proof, changed={"parties[0].ultimate_parent_headquarters": "IN -> AU"})
    assert "changed: IN -&gt; AU" in out


def test_cli_explain_html(tmp_path):
    out = tmp_path / "we02.html"
    res = CliRunner().invoke(main, ["explain-html", str(WE02), "--why-not", "exception_available(gpus, aia)",
                                    "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "aia.parent_hq_outside" in out.read_text(encoding="utf-8")


def test_cli_counterfactual_html(tmp_path):
    out = tmp_path / "cf.html"
    res = CliRunner().invoke(main, ["counterfactual", str(WE02), "--item", "gpus", "--goal",
                                    "exception_available(aia)", "--html", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert "Change set 1" in text and "parties[0].ultimate_parent_headquarters: IN -&gt; " in text
    assert "exception_available(gpus, aia) <small>holds</small>" in text  # the proof on the changed case


# --------------------------------------------------------------------------- the screenshot
def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode a non-interlaced 8-bit RGB/RGBA PNG (what Chromium writes) with the stdlib."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if ctype == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color in (2, 6), (depth, color)
            bpp = 3 if color == 2 else 4
        elif ctype == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, bpp, rows


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary found (install: apt-get install -y chromium)")
def test_screenshot_in_headless_chromium(page, tmp_path):
    html_file = tmp_path / "proof.html"
    html_file.write_text(page, encoding="utf-8")
    png = tmp_path / "proof.png"
    profile = tempfile.mkdtemp(prefix="exportkb-chromium-")
    try:
        run = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                              "--disable-background-networking", "--disable-component-update", "--disable-sync",
                              f"--user-data-dir={profile}", f"--screenshot={png}", "--window-size=1200,900",
                              html_file.resolve().as_uri()],
                             check=False, capture_output=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    # (chromium reserves much address space: under `ulimit -v` it fails to start)
    assert png.exists(), f"chromium wrote no screenshot: {run.stderr.decode(errors='replace')[-800:]}"
    data = png.read_bytes()
    assert len(data) > 20_000  # a page of text, not a blank frame
    width, bpp, rows = _png_pixels(data)
    assert width == 1200 and len(rows) == 900
    colours = {row[i:i + 3] for row in rows[::15] for i in range(0, width * bpp, 15 * bpp)}
    assert len(colours) > 20, "the screenshot is (nearly) one colour"
    # the dark header band is drawn at the top, the white page below it
    assert rows[10][600 * bpp:600 * bpp + 3] != rows[400][5 * bpp:5 * bpp + 3]
