"""`podwall report` in a real headless Chromium (Debian's, via selenium and chromedriver).

Load the page from a file:// URL, click a box, read what the panel says, check that no request
left the page, and keep a screenshot (its path is printed). Skipped, with the reason, when
Chromium, chromedriver or selenium is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from podwall.analysis.render.html import report_html
from podwall.analysis.render.views import draw_views
from podwall.analysis.report import build_report
from podwall.cli.main import cli
from podwall.engine import Engine
from tests.analysis.test_report import generated_1000

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PODWALL_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PODWALL_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1500,1100"]


def _skip_loudly(reason: str) -> None:
    warnings.warn(f"browser tests SKIPPED: {reason}", stacklevel=2)
    pytest.skip(f"browser tests SKIPPED: {reason}")


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _skip_loudly(f"no Chromium at {CHROMIUM} (apt-get install -y chromium chromium-driver)")
    if not Path(CHROMEDRIVER).exists():
        _skip_loudly(f"no chromedriver at {CHROMEDRIVER} (apt-get install -y chromium-driver)")
    if shutil.which("dot") is None:
        _skip_loudly("Graphviz `dot` is not installed (apt-get install -y graphviz)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _skip_loudly("selenium is not installed (pip install -e '.[test]')")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def _requests(browser: Any) -> list[str]:
    """Every URL the page asked for since the last call (Chromium's DevTools log)."""
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _open(browser: Any, page: Path) -> None:
    browser.get_log("performance")  # forget earlier pages
    browser.get(page.as_uri())
    browser.execute_script("return document.readyState")
    errors = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert not errors, errors


def _box_id(browser: Any, name: str) -> str:
    found = browser.execute_script(
        "var P = window.podwall; for (var i = 0; i < P.data.boxes.length; i++)"
        " if (P.boxName(i) === arguments[0]) return P.data.boxes[i].id; return null;", name)
    assert found, f"no box {name}"
    return str(found)


def _wait(where: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(where, 5).until(lambda w: w.find_element(By.CSS_SELECTOR, selector))


def _screenshot(browser: Any, path: Path) -> None:
    browser.save_screenshot(str(path))
    print(f"\nscreenshot: {path}")


def _assert_fitted(browser: Any) -> dict[str, Any]:
    assert browser.execute_script("return window.podwall.view()") == "overview"
    shown: dict[str, Any] = browser.execute_script(
        "var s = document.querySelector('#picture svg').getBoundingClientRect(),"
        " p = document.getElementById('picture').getBoundingClientRect();"
        "return {s: [s.left, s.top, s.right, s.bottom], p: [p.left, p.top, p.right, p.bottom],"
        " w: window.innerWidth, h: window.innerHeight,"
        " nodes: document.querySelectorAll('#picture g.node').length};")
    left, top, right, bottom = shown["s"]
    pleft, ptop, pright, pbottom = shown["p"]
    assert pleft <= left and right <= pright + 0.5 and ptop <= top and bottom <= pbottom + 0.5, shown
    assert top >= 0 and bottom <= shown["h"] and right <= shown["w"], shown
    assert right - left > 0.5 * (pright - pleft) or bottom - top > 0.5 * (pbottom - ptop), shown
    return shown


def test_click_shop_web_shows_what_it_reaches_and_why(driver: Any, shots: Path,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from selenium.webdriver.common.by import By

    monkeypatch.chdir(ROOT)
    page = tmp_path / "three-tier.html"
    result = CliRunner().invoke(cli, ["report", "examples/three-tier", "--out", str(page)])
    assert result.exit_code == 0, result.stderr
    _open(driver, page)

    driver.find_element(By.CSS_SELECTOR, f"g.node#{_box_id(driver, 'shop/web')}").click()
    title = driver.find_element(By.CSS_SELECTOR, "#details h3").text
    assert title == "shop/web"
    api = driver.find_element(
        By.CSS_SELECTOR, 'li[data-dir="out"][data-port="TCP/8080"][data-peer="shop/api"]')
    assert api.get_attribute("data-allowed") == "1"
    assert "egress at shop/web: allowed by shop/web-to-api egress[0]" in api.text
    assert "ingress at shop/api: allowed by shop/api-allow ingress[0]" in api.text
    # What may reach web: anyone on TCP/80 (web-from-anywhere admits every source)...
    reached = driver.find_element(
        By.CSS_SELECTOR, 'li[data-dir="in"][data-port="TCP/80"][data-peer="kube-system/coredns"]')
    assert "ingress at shop/web: allowed by shop/web-from-anywhere ingress[0]" in reached.text
    # ... and why web may not reach db: the isolating policies, no admitting rule.
    block = driver.find_element(
        By.CSS_SELECTOR, 'details.port[data-dir="out"][data-port="TCP/5432"]')
    block.find_element(By.TAG_NAME, "summary").click()  # lists fill in on the toggle event
    _wait(block, "details.denied-list > summary").click()
    db = _wait(block, 'li[data-peer="shop/db"]')
    assert db.get_attribute("data-allowed") == "0"
    assert ("ingress at shop/db: denied — isolated by shop/db-allow-api, shop/default-deny; "
            "no rule admits shop/web") in db.text

    # The picture highlights web's neighbours; the matrix fills in.
    assert "selected" in (driver.find_element(By.CSS_SELECTOR, "g.node.selected")
                          .get_attribute("class") or "")
    cells = driver.find_elements(By.CSS_SELECTOR, "#matrix-summary td")
    assert len(cells) == 4

    urls = _requests(driver)
    assert urls and all(u.startswith(("file:", "data:", "about:")) for u in urls), urls
    assert driver.execute_script(
        "return performance.getEntriesByType('resource').length") == 0
    driver.execute_script("document.getElementById('graph').scrollIntoView()")
    _screenshot(driver, shots / "report-three-tier.png")


def test_page_data_drives_the_same_verdicts_in_the_browser(driver: Any, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """report.js's lookups give the engine's verdict for every box pair and port."""
    monkeypatch.chdir(ROOT)
    page = tmp_path / "v2.html"
    result = CliRunner().invoke(cli, ["report", "examples/three-tier-v2", "examples/dns-forgotten",
                                      "--out", str(page)])
    assert result.exit_code == 0, result.stderr
    _open(driver, page)
    from podwall.manifests import load_cluster

    cluster = load_cluster(["examples/three-tier-v2", "examples/dns-forgotten"]).cluster
    engine = Engine(cluster)
    report = build_report(engine)
    matrix = engine.matrix()
    index = {name: i for i, name in enumerate(matrix.endpoints)}
    boxes = report.data["boxes"]
    members = [[m for c in b["classes"] for m in report.data["classes"][c]["members"]]
               for b in boxes]
    verdicts = driver.execute_script(
        "var P = window.podwall, out = [];"
        "for (var p = 0; p < P.data.ports.length; p++)"
        " for (var s = 0; s < P.data.boxes.length; s++)"
        "  for (var d = 0; d < P.data.boxes.length; d++) out.push(P.allowed(s, d, p));"
        "return out;")
    k = 0
    for port in matrix.ports:
        for s, src in enumerate(members):
            for d, dst in enumerate(members):
                expected = (len(src) > 1 or s != d) and matrix.is_allowed(
                    port, index[src[0]], index[dst[-1] if s == d else dst[0]])
                assert verdicts[k] == expected, (port, boxes[s]["label"], boxes[d]["label"])
                k += 1


def test_report_of_1000_endpoints_is_usable(driver: Any, shots: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    source, cluster = generated_1000()
    report = build_report(Engine(cluster), title=f"1,000 endpoints: {source}")
    html = report_html(report, draw_views(report))
    page = tmp_path / "report-1000.html"
    page.write_text(html, encoding="utf-8")
    _open(driver, page)
    # It opens on the namespaces, fitted: the whole picture inside the box that shows it, and
    # that box inside the window.
    shown = _assert_fitted(driver)
    assert shown["nodes"] == report.counts["namespaces"]
    _screenshot(driver, shots / "report-1000-overview.png")

    # Click a namespace: its boxes, and the panel lists its arrows to other namespaces.
    overview = report.overview
    assert overview is not None
    busiest_ns = max(overview.namespaces, key=lambda n: n.boxes)
    driver.find_element(By.CSS_SELECTOR, f"#picture g.node#{busiest_ns.id}").click()
    assert driver.execute_script("return window.podwall.view()") == f"ns:{busiest_ns.id[2:]}"
    assert driver.execute_script("return location.hash") == f"#ns={busiest_ns.name}"
    assert driver.find_element(By.CSS_SELECTOR, "#details h3").text == (
        f"namespace {busiest_ns.name}")
    boxes = driver.find_elements(By.CSS_SELECTOR, "#picture g.node[id^='n']")
    assert len([b for b in boxes if b.get_attribute("id")[1:].isdigit()]) == busiest_ns.boxes
    _screenshot(driver, shots / "report-1000-namespace.png")
    # A stand-in for another namespace goes there; Back comes back.
    stand_in = driver.find_element(By.CSS_SELECTOR, "#picture g.node[id^='y']")
    other = int(stand_in.get_attribute("id")[1:])
    stand_in.click()
    assert driver.execute_script("return window.podwall.view()") == f"ns:{other}"
    driver.back()
    assert driver.execute_script("return window.podwall.view()") == f"ns:{busiest_ns.id[2:]}"
    driver.find_element(By.CSS_SELECTOR, 'button[data-view="overview"]').click()
    assert driver.execute_script("return window.podwall.view()") == "overview"

    # The busiest box: the one with the most endpoints.
    busiest = max(range(len(report.data["boxes"])), key=lambda b: sum(
        len(report.data["classes"][c]["members"]) for c in report.data["boxes"][b]["classes"]))
    box_id = report.data["boxes"][busiest]["id"]
    started = driver.execute_script("return performance.now()")
    driver.execute_script("window.podwall.select(arguments[0], true)", busiest)
    elapsed = driver.execute_script("return performance.now()") - started
    assert driver.find_element(By.CSS_SELECTOR, "#details h3").get_attribute("data-box") == box_id
    assert driver.find_elements(By.CSS_SELECTOR, "#details details.port")
    print(f"\n1,000 endpoints: {len(html.encode()) / 1024:.0f} KiB, selecting the biggest box "
          f"took {elapsed:.0f} ms")
    assert elapsed < 3000
    urls = _requests(driver)
    assert all(u.startswith(("file:", "data:", "about:")) for u in urls), urls
    _screenshot(driver, shots / "report-1000.png")


def test_report_of_2000_endpoints_opens_fitted(driver: Any, shots: Path, tmp_path: Path) -> None:
    from tests.analysis.test_report import generated

    _, cluster = generated(2000)
    report = build_report(Engine(cluster))
    page = tmp_path / "report-2000.html"
    page.write_text(report_html(report, draw_views(report)), encoding="utf-8")
    _open(driver, page)
    shown = _assert_fitted(driver)
    assert shown["nodes"] == report.counts["namespaces"]
    _screenshot(driver, shots / "report-2000-overview.png")
