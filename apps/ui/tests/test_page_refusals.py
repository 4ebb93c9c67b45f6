"""429 and 503 from a real API as readable messages on the page (AppTest).

This module's API is started with a slow per-key rate limit and a growth-stage model whose
artifact fails its checksum (the API refuses to start without the folder at all), so both
refusals come from the API's own code paths.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from ui_test_page import API_KEY, analyse_photos, errors, open_page
from ui_test_photos import leaf_jpeg

from florai import contract as api_contract
from florai_testkit.live_stack import ApiProcess
from florai_ui.tasks import BY_TASK

pytestmark = pytest.mark.usefixtures("ui_settings")

RATE_PER_S = 0.05  # one request per 20 s once the burst is spent
BURST = 20  # enough for the first test's page runs (each run reads consent, audit and usage)
BROKEN_MODEL = "FLORAI_MODEL_GROWTH_STAGE"


@pytest.fixture(scope="module")
def api(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    folder = tmp_path_factory.mktemp("api-refusals")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FLORAI_RATE_LIMIT_PER_S", str(RATE_PER_S))
        env.setenv("FLORAI_RATE_LIMIT_BURST", str(BURST))
        broken = folder / "growth-stage-tampered"
        shutil.copytree(models_dir / api_contract.TASK_GROWTH_STAGE, broken)
        for artifact in broken.glob("model.*"):
            with artifact.open("ab") as tampered:
                tampered.write(b"tampered")  # the manifest's sha256 no longer matches
        env.setenv(BROKEN_MODEL, str(broken))
        server = ApiProcess(models_dir, folder / "data", API_KEY)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_503_model_unavailable_says_not_available_and_when_to_retry(api):
    label = BY_TASK[api_contract.TASK_GROWTH_STAGE].label
    at = analyse_photos(open_page(), label, [("leaf.jpg", leaf_jpeg(5), "image/jpeg")])

    assert errors(at) == [
        "This analysis is not available right now (its model is not loaded). Try again in 1 s."
    ]


def test_429_says_too_many_requests_and_the_retry_time(api):
    headers = {api_contract.API_KEY_HEADER: API_KEY}
    for _ in range(BURST * 2):  # spend what is left of the burst
        if httpx.get(f"{api.url}{api_contract.API_PREFIX}/consent", headers=headers).status_code == 429:
            break
    else:
        pytest.fail(f"the API never answered 429 within {BURST * 2} requests")

    at = open_page()
    (message,) = errors(at)
    wait = re.fullmatch(r"Too many requests from your account\. Try again in (\d+) s\.", message)
    assert wait and 1 <= int(wait.group(1)) <= 1 / RATE_PER_S, message
