"""A person's path through the page in a real browser, against the local launcher's real servers.

``python -m florai_ui.local`` (what ``make ui`` runs) starts the API and the UI; headless
Chromium opens the page, uploads a JPEG, chooses diagnose and waits for the top-k and the
heat map. The screenshot is saved in the test's output folder and its path printed, with the
measured page load and diagnose round-trip times.
"""

from __future__ import annotations

import re
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait
from ui_test_photos import leaf_jpeg

from florai import contract as api_contract
from florai_testkit.browser import chromium
from florai_testkit.servers import ManagedProcess, free_port
from florai_ui import contract
from florai_ui.server import streamlit_env
from florai_ui.tasks import BY_TASK
from florai_ui.views.results import HEATMAP_CAPTION

LAUNCH_TIMEOUT_S = 240.0
WAIT_S = 120.0
DIAGNOSE = BY_TASK[api_contract.TASK_DIAGNOSE].label
DIAGNOSE_LABEL = f"//label[.//p[normalize-space()='{DIAGNOSE}']]"
RUN_BUTTON = "//button[not(@disabled)][.//p[normalize-space()='Analyse']]"
# The heat map: the image in the same Streamlit image block as its caption.
HEATMAP_IMAGE = (
    f"//*[@data-testid='stImageCaption'][contains(., '{HEATMAP_CAPTION}')]/ancestor::*[.//img][1]//img"
)
URL_LINE = re.compile(r"^\s+(api|ui)\s+(http://\S+)(?:\s+\(metrics (http://\S+);)?", re.MULTILINE)


@pytest.fixture(scope="module")
def launcher(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The launcher on free ports; its printed URLs by name (api, ui, metrics)."""
    folder = tmp_path_factory.mktemp("ui-local")
    log = folder / "launcher.log"
    ports = {"--api-port": free_port(), "--ui-port": free_port(), "--metrics-port": free_port()}
    argv = [
        sys.executable,
        "-m",
        "florai_ui.local",
        "--models",
        str(models_dir),
        "--data",
        str(folder / "data"),
    ]
    argv += [str(x) for pair in ports.items() for x in pair]

    def urls() -> dict[str, str]:
        found = {}
        for name, url, metrics in URL_LINE.findall(log.read_text() if log.exists() else ""):
            found[name] = url
            if metrics:
                found["metrics"] = metrics
        return found

    process = ManagedProcess(
        "florai_ui.local",
        argv,
        log,
        lambda: "ui" in urls(),
        env=streamlit_env(),
        start_timeout=LAUNCH_TIMEOUT_S,
    )
    process.start()
    try:
        yield urls()
    finally:
        process.stop()


def test_launcher_prints_both_urls_on_the_ports_asked(launcher):
    assert launcher["api"].endswith(api_contract.API_PREFIX)
    with urllib.request.urlopen(launcher["ui"] + contract.HEALTH_PATH, timeout=5) as response:
        assert response.status == 200


def test_diagnose_in_a_real_browser(launcher, tmp_path):
    photo = tmp_path / "leaf.jpg"
    photo.write_bytes(leaf_jpeg(7, size=(640, 480)))
    screenshot = tmp_path / "diagnose.png"
    browser = chromium(tmp_path / "profile")
    wait = WebDriverWait(browser, WAIT_S)
    try:
        start = time.perf_counter()
        browser.get(launcher["ui"])
        upload = wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "input[type='file']")))
        wait.until(ready.visibility_of_element_located((By.XPATH, "//h1[contains(., 'FlorAI')]")))
        page_load_s = time.perf_counter() - start

        # Each step reruns the page over its websocket: wait for its effect before the next one.
        upload.send_keys(str(photo))
        wait.until(ready.visibility_of_element_located((By.XPATH, f"//*[normalize-space()='{photo.name}']")))
        browser.find_element(By.XPATH, DIAGNOSE_LABEL).click()
        wait.until(ready.element_located_to_be_selected((By.XPATH, f"{DIAGNOSE_LABEL}//input")))
        analyse = wait.until(ready.element_to_be_clickable((By.XPATH, RUN_BUTTON)))
        start = time.perf_counter()
        analyse.click()
        heatmap = wait.until(ready.visibility_of_element_located((By.XPATH, HEATMAP_IMAGE)))
        round_trip_s = time.perf_counter() - start

        texts = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stProgress']")]
        heatmap_width = heatmap.size["width"]
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", heatmap)
        browser.save_screenshot(str(screenshot))
        source = browser.page_source
    finally:
        browser.quit()

    print(f"\nscreenshot: {screenshot}")
    print(f"page load (navigation to the upload widget): {page_load_s:.2f} s")
    print(f"diagnose round trip (click to heat map shown): {round_trip_s:.2f} s")
    assert len(texts) == 5 and texts[0].startswith("1. ") and "%" in texts[0], texts
    assert heatmap_width > 0 and screenshot.stat().st_size > 10_000
    assert "Model diagnose version" in source
    # The page never carries the API credentials: no key header and no API URL reaches the browser.
    assert api_contract.API_KEY_HEADER not in source and launcher["api"] not in source

    with urllib.request.urlopen(launcher["metrics"], timeout=5) as response:
        samples = [
            s for family in text_string_to_metric_families(response.read().decode()) for s in family.samples
        ]
    counts = {
        (s.name, tuple(sorted(s.labels.items()))): s.value for s in samples if s.name.endswith("_count")
    }
    diagnose_ok = (("outcome", "ok"), ("route", "diagnose"))
    assert counts[(f"{contract.API_CALL_METRIC}_count", diagnose_ok)] >= 1
    assert counts[(f"{contract.PAGE_RENDER_METRIC}_count", (("view", "page"),))] >= 1
