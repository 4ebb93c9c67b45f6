"""Sign-in configuration: with an OIDC issuer people sign in (no API call before), without the
full set of settings the page says which variable is missing."""

from __future__ import annotations

import tomllib

import pytest
from ui_test_page import errors, open_page

from florai_ui.oidc import DISCOVERY_PATH, auth_secrets_toml, write_auth_secrets
from florai_ui.settings import load_settings

ISSUER = "https://login.florai.example.com/realms/florai"
OIDC = {
    "FLORAI_UI_OIDC_ISSUER": ISSUER,
    "FLORAI_UI_OIDC_CLIENT_ID": "florai-ui",
    "FLORAI_UI_OIDC_CLIENT_SECRET": "client-secret-for-tests",
    "FLORAI_UI_OIDC_REDIRECT_URI": "https://api.dev.florai.example.com/oauth2callback",
    "FLORAI_UI_OIDC_COOKIE_SECRET": "cookie-secret-for-tests",
}


@pytest.fixture
def oidc_env(monkeypatch):
    for name, value in OIDC.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FLORAI_UI_METRICS_PORT", "0")
    monkeypatch.setenv("FLORAI_UI_API_URL", "http://127.0.0.1:9")  # nothing listens: no call may be made
    monkeypatch.delenv("FLORAI_UI_API_KEY", raising=False)


def test_streamlit_auth_secrets_come_from_the_settings(oidc_env, tmp_path):
    auth = tomllib.loads(auth_secrets_toml(load_settings()))["auth"]
    assert auth["server_metadata_url"] == ISSUER + DISCOVERY_PATH
    assert auth["client_id"] == "florai-ui" and auth["client_secret"] == OIDC["FLORAI_UI_OIDC_CLIENT_SECRET"]
    assert auth["expose_tokens"] == ["id"]
    path = write_auth_secrets(load_settings(), tmp_path)
    assert path == tmp_path / ".streamlit" / "secrets.toml" and oct(path.stat().st_mode & 0o777) == "0o600"


def test_with_an_issuer_the_page_asks_to_sign_in_before_any_api_call(oidc_env):
    at = open_page()
    assert [b.label for b in at.button] == ["Sign in"]
    assert errors(at) == [] and not at.tabs


def test_an_incomplete_sign_in_setup_names_the_missing_variables(oidc_env, monkeypatch):
    monkeypatch.delenv("FLORAI_UI_OIDC_CLIENT_SECRET")
    monkeypatch.delenv("FLORAI_UI_OIDC_COOKIE_SECRET")
    (message,) = errors(open_page())
    assert message.endswith("FLORAI_UI_OIDC_CLIENT_SECRET, FLORAI_UI_OIDC_COOKIE_SECRET must be too")


def test_without_credentials_the_page_says_what_to_set(monkeypatch):
    for name in [*OIDC, "FLORAI_UI_API_KEY"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FLORAI_UI_METRICS_PORT", "0")
    assert errors(open_page()) == [
        "The UI has no credentials for the API: set FLORAI_UI_API_KEY (or FLORAI_UI_OIDC_ISSUER for sign-in)."
    ]
