"""The HTML graph page in a real headless Chromium (Selenium): it loads offline without
console errors, shows the tutorial's nodes and edges, and a click on an edge shows its
explanation. A screenshot of the page is kept as docs/graph.png (the README's picture);
``NETPOL_UPDATE_SCREENSHOTS=1`` rewrites it.

Needs the Debian packages chromium and chromium-driver and selenium from PyPI; skips,
saying which is missing, otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from netpol.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "docs" / "graph.png"
WINDOW = (1400, 1000)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _missing() -> str | None:
    if CHROMIUM is None:
        return "chromium is not installed (apt-get install chromium chromium-driver)"
    if CHROMEDRIVER is None:
        return "chromedriver is not installed (apt-get install chromium-driver)"
    if shutil.which("dot") is None:
        return "Graphviz dot is not installed (apt-get install graphviz)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("graph") / "three-tier.html"
    here = os.getcwd()
    os.chdir(REPO)  # the page names its input as the user wrote it: examples/three-tier
    try:
        result = CliRunner().invoke(
            cli,
            [
                "graph",
                "examples/three-tier",
                "-o",
                "html",
                "--title",
                "The tutorial's three tiers",
                "-w",
                str(target),
            ],
        )
    finally:
        os.chdir(here)
    assert result.exit_code == 0, result.output
    return target


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def loaded(browser: Any, page: Path) -> Any:
    browser.get(page.as_uri())
    return browser


def _data(driver: Any) -> dict[str, Any]:
    text = driver.execute_script("return document.getElementById('netpol-data').textContent")
    return json.loads(text)


def _edge_key(driver: Any, src: str, dst: str) -> str:
    edges = _data(driver)["edges"]
    return next(k for k, e in edges.items() if e["src"] == src and e["dst"] == dst)


def test_page_loads_without_console_errors(loaded: Any) -> None:
    problems = [e for e in loaded.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert problems == []
    assert loaded.title == "The tutorial's three tiers"


def test_page_shows_the_tutorials_nodes_and_edges(loaded: Any) -> None:
    from selenium.webdriver.common.by import By

    titles = {
        e.get_attribute("id"): e.find_element(By.CSS_SELECTOR, "text").text
        for e in loaded.find_elements(By.CSS_SELECTOR, "#graph g.node")
    }
    labels = set(titles.values())
    assert {
        "frontend-deploy",
        "backend-deploy",
        "db-sts",
        "coredns",
        "external 0.0.0.0/0",
    } <= labels
    edges = {
        e.get_attribute("id"): " ".join(t.text for t in e.find_elements(By.CSS_SELECTOR, "text"))
        for e in loaded.find_elements(By.CSS_SELECTOR, "#graph g.edge")
    }
    assert len(edges) == 11
    assert (
        edges[_edge_key(loaded, "app1-ns/frontend-deploy", "app1-ns/backend-deploy")] == "TCP 5678"
    )
    assert edges[_edge_key(loaded, "app1-ns/backend-deploy", "app1-ns/db-sts")] == "TCP 3306"
    assert edges[_edge_key(loaded, "external:0.0.0.0/0", "app1-ns/frontend-deploy")] == "TCP 80"
    rows = loaded.find_elements(By.CSS_SELECTOR, "#truth-table tbody tr")
    assert len(rows) == 6


def test_clicking_an_edge_shows_its_explanation(loaded: Any) -> None:
    from selenium.webdriver.common.by import By

    evidence = loaded.find_element(By.ID, "evidence")
    assert evidence.text == ""
    key = _edge_key(loaded, "app1-ns/frontend-deploy", "app1-ns/backend-deploy")
    loaded.find_element(By.CSS_SELECTOR, f"#graph g#{key} text").click()
    assert loaded.find_element(By.ID, "panel").get_attribute("data-edge") == key
    title = loaded.find_element(By.ID, "evidence-title").text
    assert title == "app1-ns/frontend-deploy → app1-ns/backend-deploy: TCP 5678"
    text = evidence.text
    assert "ALLOWED" in text
    assert "allowed by app1-ns/frontend-policy egress[0]" in text
    assert "allowed by app1-ns/backend-policy ingress[0]" in text
    assert "selected" in loaded.find_element(By.ID, key).get_attribute("class")


def test_clicking_a_table_cell_shows_the_same_explanation(loaded: Any) -> None:
    from selenium.webdriver.common.by import By

    key = _edge_key(loaded, "app1-ns/backend-deploy", "app1-ns/db-sts")
    loaded.find_element(By.CSS_SELECTOR, f'td[data-edge="{key}"]').click()
    assert "allowed by app1-ns/db-policy ingress[0]" in loaded.find_element(By.ID, "evidence").text


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_screenshot_is_kept_under_docs(loaded: Any, tmp_path: Path) -> None:
    """The README's picture: the page with the frontend -> backend edge explained."""
    from selenium.webdriver.common.by import By

    key = _edge_key(loaded, "app1-ns/frontend-deploy", "app1-ns/backend-deploy")
    loaded.find_element(By.CSS_SELECTOR, f"#graph g#{key} text").click()
    shot = loaded.get_screenshot_as_png()
    size = _png_size(shot)
    assert size[0] == WINDOW[0] and size[1] > WINDOW[1] // 2  # the viewport, not a blank
    if os.environ.get("NETPOL_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.write_bytes(shot)
    assert SCREENSHOT.exists(), "docs/graph.png missing: run with NETPOL_UPDATE_SCREENSHOTS=1"
    assert _png_size(SCREENSHOT.read_bytes()) == size
