"""Browsers: only the origins in FLORAI_CORS_ORIGINS may call the API across origins (none by
default), and every response carries the usual security headers."""

from __future__ import annotations

import pytest

from florai import contract
from florai.api.docs import DOCS_CSP
from florai.settings import SettingsError, load_settings

API = contract.API_PREFIX
UI = "https://ui.florai.example"


def preflight(client, origin: str):  # noqa: ANN001, ANN201
    return client.options(
        f"{API}/identify",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key, content-type",
        },
    )


def test_allowed_origins_only(serve, dev_headers):
    with serve(services=("consent",), cors_origins=(UI, "http://localhost:8501")) as client:
        allowed = preflight(client, UI)
        assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == UI
        assert "x-api-key" in allowed.headers["access-control-allow-headers"].lower()
        simple = client.get(f"{API}/consent", headers={**dev_headers, "Origin": UI})
        assert simple.headers["access-control-allow-origin"] == UI
        assert "retry-after" in simple.headers["access-control-expose-headers"].lower()
        assert "access-control-allow-credentials" not in simple.headers
        stranger = client.get(f"{API}/consent", headers={**dev_headers, "Origin": "https://evil.example"})
        assert stranger.status_code == 200 and "access-control-allow-origin" not in stranger.headers
        assert preflight(client, "https://evil.example").status_code == 400


def test_no_origin_is_allowed_by_default(client, dev_headers):
    answer = client.get(f"{API}/consent", headers={**dev_headers, "Origin": UI})
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-origin" not in preflight(client, UI).headers


def test_security_headers_on_every_response(client, dev_headers):
    for path, headers in (
        (f"{API}/consent", dev_headers),
        (f"{API}/consent", {}),
        (contract.HEALTH_PATH, {}),
    ):
        answer = client.get(path, headers=headers)
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["strict-transport-security"].startswith("max-age=")
    api = client.get(f"{API}/consent", headers=dev_headers)
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert api.headers["cache-control"] == "no-store"
    # The docs pages carry their own policy: scripts from this origin only (florai.api.docs).
    assert client.get(contract.DOCS_PATH).headers["content-security-policy"] == DOCS_CSP


@pytest.mark.parametrize("value", ["*", "ui.florai.example", "https://ui.florai.example/app"])
def test_origins_must_be_origins(monkeypatch, value):
    monkeypatch.setenv("FLORAI_CORS_ORIGINS", f"{UI},{value}")
    with pytest.raises(SettingsError, match="FLORAI_CORS_ORIGINS: Value error, not origins"):
        load_settings()


def test_origins_from_the_environment(monkeypatch):
    monkeypatch.setenv("FLORAI_CORS_ORIGINS", f" {UI}/ , http://localhost:8501 ")
    assert load_settings().cors_origins == (UI, "http://localhost:8501")
    monkeypatch.setenv("FLORAI_CORS_ORIGINS", "")
    assert load_settings().cors_origins == ()
