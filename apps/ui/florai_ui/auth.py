"""Whose credentials a page's API calls carry: the signed-in user's token, or the configured key.

With an OIDC issuer configured (FLORAI_UI_OIDC_ISSUER) people sign in through Streamlit's
``st.login`` and the API receives their own ID token as a bearer token; otherwise (locally)
every call carries the development API key. Either way the header is built here, on the
server, and never reaches the browser.
"""

from __future__ import annotations

import streamlit as st

from florai import contract as api_contract
from florai_ui.settings import UiSettings

NO_KEY = (
    "The UI has no credentials for the API: set FLORAI_UI_API_KEY (or FLORAI_UI_OIDC_ISSUER for sign-in)."
)


def api_headers(settings: UiSettings) -> dict[str, str] | None:
    """The credential header for this session, or None after showing the sign-in (or the problem)."""
    if settings.sign_in:
        if not st.user.get("is_logged_in"):
            st.info("Sign in to analyse your photos and manage your data.")
            st.button("Sign in", on_click=st.login, type="primary")
            return None
        st.sidebar.caption(f"Signed in as {st.user.get('email') or st.user.get('sub')}")
        st.sidebar.button("Sign out", on_click=st.logout)
        return {"Authorization": f"Bearer {st.user.tokens['id']}"}
    if settings.api_key is None:
        st.error(NO_KEY)
        return None
    return {api_contract.API_KEY_HEADER: settings.api_key.get_secret_value()}
