"""Driving the page with Streamlit's AppTest: widgets by key, and what the page shows."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from florai_ui.server import APP_SCRIPT
from florai_ui.views import analyse

RUN_TIMEOUT_S = 120
# The development key of the tests' API servers (their FLORAI_API_KEY).
API_KEY = "ui-tests-dev-key-0123456789"


def open_page() -> AppTest:
    return AppTest.from_file(str(APP_SCRIPT), default_timeout=RUN_TIMEOUT_S).run()


def analyse_photos(at: AppTest, label: str, files: list[tuple[str, bytes, str]]) -> AppTest:
    at.radio(key=analyse.KEY_ANALYSIS).set_value(label)
    at.file_uploader(key=analyse.KEY_UPLOADS).set_value(files)
    at.run()
    return at.button(key=analyse.KEY_RUN).click().run()


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def image_captions(at: AppTest) -> dict[str, str]:
    """Caption -> media URL of every image on the page (the URL names the image's bytes)."""
    return {img.caption: img.url for element in at.get("image") for img in element.proto.imgs}


def progress_texts(at: AppTest) -> list[str]:
    return [p.proto.text for p in at.get("progress")]
