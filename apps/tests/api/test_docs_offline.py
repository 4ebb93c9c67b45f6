"""/docs and /redoc work with no network and under a CSP that allows scripts from the API only.

The pages' assets come from the image (fastapi-offline's static files), the pages carry no inline
script and no other origin; a real headless Chromium (no network on this machine) renders Swagger
UI's operations and ReDoc's, and logs no CSP violation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from florai import contract
from florai.api.docs import DOCS_CSP
from florai_testkit.browser import chromium
from florai_testkit.live_stack import ApiProcess

RENDER_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    """The consent service alone: the docs do not need a model, so none is loaded."""
    folder = tmp_path_factory.mktemp("docs-api")
    (folder / "models").mkdir()
    server = ApiProcess(
        folder / "models", folder / "data", "docs-test-key-0123456789", env={"FLORAI_SERVICES": "consent"}
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("path", [contract.DOCS_PATH, contract.REDOC_PATH])
def test_the_pages_load_only_their_own_scripts_under_a_strict_csp(api, path):
    page = httpx.get(api.url + path, timeout=10)
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert csp == DOCS_CSP
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    assert script_src == "'self'"  # no 'unsafe-inline', no CDN
    assert "http://" not in page.text and "https://" not in page.text
    assert "<script>" not in page.text  # every script is a file of this origin
    for asset in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert asset.startswith(contract.DOCS_ASSETS_PATH)
        served = httpx.get(api.url + asset, timeout=10)
        assert served.status_code == 200 and len(served.content) > 0, asset


# Directives whose violation would break a page. ReDoc's footer asks its CDN for a decorative logo
# (img-src): the policy blocks it, which is the point, and the page works without it.
FUNCTIONAL = ("script-src", "style-src", "connect-src", "worker-src", "font-src", "default-src")


def _csp_violations(browser) -> list[str]:
    return [
        e["message"]
        for e in browser.get_log("browser")
        if "Content Security Policy" in e["message"] and any(f'"{d} ' in e["message"] for d in FUNCTIONAL)
    ]


def test_a_browser_without_network_renders_both_pages(api, tmp_path: Path):
    browser = chromium(tmp_path / "profile")
    try:
        browser.get(api.url + contract.DOCS_PATH)
        wait = WebDriverWait(browser, RENDER_TIMEOUT_S)
        # Swagger UI renders one block per operation from /openapi.json.
        wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
        operations = browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
        assert any(f"{contract.API_PREFIX}/consent" in o.text for o in operations)
        browser.save_screenshot(str(tmp_path / "docs.png"))
        assert _csp_violations(browser) == []

        browser.get(api.url + contract.REDOC_PATH)
        # ReDoc renders the API's title and an operation per route in its side menu.
        wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[role=menuitem]")))
        wait.until(lambda b: "FlorAI" in b.find_element(By.TAG_NAME, "h1").text)
        browser.save_screenshot(str(tmp_path / "redoc.png"))
        assert _csp_violations(browser) == []
    finally:
        browser.quit()
