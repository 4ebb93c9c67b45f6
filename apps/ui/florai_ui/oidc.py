"""Streamlit's sign-in configuration (``[auth]`` in secrets.toml) from the UI's OIDC settings.

Streamlit reads it from ``$HOME/.streamlit/secrets.toml``; ``python -m florai_ui.server`` writes
it there (the emptyDir at /tmp in the image) before Streamlit starts, so the client secret
lives only in the pod's environment and that file, never in git or in the page.
"""

from __future__ import annotations

import json
from pathlib import Path

from florai_ui.settings import UiSettings

DISCOVERY_PATH = "/.well-known/openid-configuration"


def auth_secrets_toml(settings: UiSettings) -> str:
    def secret(value) -> str:
        return value.get_secret_value() if value is not None else ""

    values = {
        "redirect_uri": settings.oidc_redirect_uri or "",
        "cookie_secret": secret(settings.oidc_cookie_secret),
        "client_id": settings.oidc_client_id or "",
        "client_secret": secret(settings.oidc_client_secret),
        "server_metadata_url": (settings.oidc_issuer or "").rstrip("/") + DISCOVERY_PATH,
    }
    # JSON strings are valid TOML basic strings; the ID token is what the API verifies.
    lines = [
        "[auth]",
        *(f"{key} = {json.dumps(value)}" for key, value in values.items()),
        'expose_tokens = ["id"]',
    ]
    return "\n".join(lines) + "\n"


def write_auth_secrets(settings: UiSettings, home: Path) -> Path | None:
    """Write ``home/.streamlit/secrets.toml`` (owner-only) when sign-in is configured."""
    if not settings.sign_in:
        return None
    path = home / ".streamlit" / "secrets.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(auth_secrets_toml(settings))
    path.chmod(0o600)
    return path
