"""The page: settings, credentials, then the tabs; each run is timed for florai_ui_page_render_seconds."""

from __future__ import annotations

import streamlit as st

from florai_ui import metrics
from florai_ui.api_client import ApiClient
from florai_ui.auth import api_headers
from florai_ui.settings import SettingsError, load_settings
from florai_ui.views import analyse, consent

TITLE = "FlorAI"
TABS = ("Analyse photos", "My data")


@st.cache_resource
def _metrics_server(port: int, addr: str) -> int:
    return metrics.serve(port, addr)


def main() -> None:
    st.set_page_config(page_title=TITLE, page_icon="🌿", layout="wide")
    with metrics.render_timer("page"):
        try:
            settings = load_settings()
        except SettingsError as exc:
            st.error(str(exc))
            return
        if settings.metrics_port:
            _metrics_server(settings.metrics_port, settings.metrics_addr)
        st.title(TITLE)
        st.caption("Identify a plant, diagnose its disease and see where the model looked.")
        headers = api_headers(settings)
        if headers is None:
            return
        client = ApiClient(settings.api_base, headers, settings.api_timeout_s, settings.api_service_urls)
        try:
            photos_tab, data_tab = st.tabs(TABS)
            with photos_tab:
                analyse.render(client)
            with data_tab:
                consent.render(client)
        finally:
            client.close()
