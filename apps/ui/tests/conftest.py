"""Fixtures of the UI tests: a real API (``python -m florai`` on embedded defaults) per module.

The package is imported from its folder when it is not installed (a plain checkout).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

UI_ROOT = Path(__file__).resolve().parent.parent
# The package (when not installed) and this folder's helpers (ui_test_*.py).
for folder in (UI_ROOT, UI_ROOT / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from ui_test_page import API_KEY  # noqa: E402

from florai_testkit.live_stack import ApiProcess  # noqa: E402


@pytest.fixture(scope="session")
def models_dir(reference_models: dict[str, Path]) -> Path:
    """The folder holding one reference model per task (FLORAI_MODELS_DIR)."""
    (parent,) = {folder.parent for folder in reference_models.values()}
    return parent


@pytest.fixture(scope="module")
def api(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    """One real API server for the test module, with the development key API_KEY.

    Its rate limit is generous: a page run makes several calls, and these tests are about the page,
    not the limiter (test_page_refusals.py meets a real 429 on purpose, with a slow limit).
    """
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FLORAI_RATE_LIMIT_PER_S", "1000")
        env.setenv("FLORAI_RATE_LIMIT_BURST", "1000")
        server = ApiProcess(models_dir, tmp_path_factory.mktemp("api-data"), API_KEY)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def ui_settings(api: ApiProcess) -> Iterator[None]:
    """The page (AppTest, in this process) talks to the module's API with the development key."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FLORAI_UI_API_URL", api.url)
        env.setenv("FLORAI_UI_API_KEY", API_KEY)
        env.setenv("FLORAI_UI_METRICS_PORT", "0")
        env.delenv("FLORAI_UI_OIDC_ISSUER", raising=False)
        yield
