"""The web page in a real browser: Debian's Chromium driven by Selenium through chromium-driver.

A uvicorn server runs on a free loopback port in a thread; the tests fill the scenario form, read the
summary, open a why-not, and check that a party name holding ``<script>`` is shown as text (the
script never runs: the page would change its title). Screenshots are saved as test artefacts under
``$EXPORTKB_ARTEFACTS`` (default: a folder in the system's temporary directory), never committed.
"""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
uvicorn = pytest.importorskip("uvicorn")
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from exportkb.server.app import create_app  # noqa: E402
from exportkb.server.service import ServerOptions  # noqa: E402

from .conftest import CASES, ROOT  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                                reason="needs chromium and chromium-driver (apt-get install -y chromium chromium-driver)")
ARTEFACTS = Path(os.environ.get("EXPORTKB_ARTEFACTS") or Path(tempfile.gettempdir()) / "exportkb-artefacts")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def base_url(kb):
    port = _free_port()
    app = create_app(kb, ServerOptions(cases_dir=CASES))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1600",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()


def shot(browser, name: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    png = ARTEFACTS / f"server-{name}.png"
    browser.save_screenshot(str(png))
    assert png.stat().st_size > 10_000, "an (almost) empty screenshot"
    return png


def test_form_summary_and_why_not(browser, base_url):
    browser.get(base_url + "/")
    form = browser.find_element(By.ID, "scenario")
    Select(form.find_element(By.NAME, "to")).select_by_value("CN")
    q = form.find_element(By.NAME, "quantity")
    q.clear()
    q.send_keys("10")
    shot(browser, "form")
    form.find_element(By.ID, "check-form").click()
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "summary"))
    summary = browser.find_element(By.ID, "summary").text
    # China is in Country Group D:5: the worldwide 3A090.a requirement applies (15 CFR 742.6(a)(6)(iii)).
    assert "A license is required for item item1 (3A090.a)" in summary
    assert "15 CFR 742.6(a)(6)(iii)" in summary
    assert "/result?c=" in browser.current_url          # shareable: the case is in the URL
    shot(browser, "result")
    browser.find_element(By.CSS_SELECTOR, "a.why-not[href*='x=lpp']").click()
    assert "Why is LPP not available for item item1?" in browser.find_element(By.TAG_NAME, "h2").text
    tree = browser.find_element(By.CSS_SELECTOR, "section.proof").text
    assert "LPP is available" in tree and "15 CFR 740.29" in tree
    shot(browser, "why-not")


def test_expand_all_uses_the_packaged_script(browser, base_url):
    browser.get(base_url + "/?example=uae-datacenter")
    browser.find_element(By.ID, "check-yaml").click()
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "section.proof details"))
    count_closed = "return Array.from(document.querySelectorAll('section.proof details')).filter(d => !d.open).length;"
    assert browser.execute_script(count_closed) > 0, "some proof steps start folded"
    browser.find_element(By.CSS_SELECTOR, "button.expand[data-open='1']").click()
    assert browser.execute_script(count_closed) == 0


def test_script_in_a_party_name_is_text(browser, base_url):
    browser.get(base_url + "/")
    hostile = "<script>document.title='pwned'</script>"
    text = (ROOT / "examples" / "uae-datacenter.yaml").read_text().replace("id: uae-dc", f'id: "{hostile}"')
    box = browser.find_element(By.ID, "yaml")
    browser.execute_script("arguments[0].value = arguments[1];", box, text)
    browser.find_element(By.ID, "check-yaml").click()
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "section.proof details"))
    browser.find_element(By.CSS_SELECTOR, "section.proof details").click()
    browser.find_element(By.CSS_SELECTOR, "button.expand[data-open='1']").click()
    assert browser.title != "pwned"
    assert hostile in browser.find_element(By.TAG_NAME, "body").text   # shown, as text
    shot(browser, "hostile-name")
