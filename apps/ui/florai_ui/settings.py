"""The UI's settings: one object read from the environment (``FLORAI_UI_*``).

Credentials stay on the server: the API key and the OIDC client secret are read here and used
only by the page's server-side calls; nothing of them is rendered into the page.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from florai import contract as api_contract
from florai_ui import contract


class SettingsError(ValueError):
    """A FLORAI_UI_* variable is invalid; the message names it."""


class UiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLORAI_UI_", extra="ignore")

    # Base URL of the API (scheme, host, port; no path): the UI calls nothing else.
    api_url: str = f"http://127.0.0.1:{api_contract.HTTP_PORT}"
    # The development key locally; in the cluster a service key from a Secret (when no OIDC).
    # In the cluster each API service has its own Service: service name (florai.contract.SERVICES)
    # -> base URL; a service not named here is reached at api_url (locally, one process serves all).
    api_service_urls: dict[str, str] = {}
    api_key: SecretStr | None = None
    api_timeout_s: float = Field(contract.API_TIMEOUT_S, gt=0)
    metrics_port: int = Field(contract.METRICS_PORT, ge=0, le=65535)  # 0 = no metrics server
    metrics_addr: str = "0.0.0.0"
    # Sign-in (OpenID Connect through Streamlit's st.login) when an issuer is set: the API then
    # receives the user's own ID token (its FLORAI_JWT_ISSUER/_AUDIENCE name the same issuer/client).
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_redirect_uri: str | None = None
    oidc_cookie_secret: SecretStr | None = None

    @property
    def sign_in(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def api_base(self) -> str:
        return self.api_url.rstrip("/")


def load_settings() -> UiSettings:
    try:
        settings = UiSettings()
    except ValidationError as exc:
        problems = "; ".join(
            f"FLORAI_UI_{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise SettingsError(f"invalid UI settings: {problems}") from None
    missing = [
        f"FLORAI_UI_{name.upper()}"
        for name in ("oidc_client_id", "oidc_client_secret", "oidc_redirect_uri", "oidc_cookie_secret")
        if settings.sign_in and not getattr(settings, name)
    ]
    if missing:
        needed = ", ".join(missing)
        raise SettingsError(f"invalid UI settings: FLORAI_UI_OIDC_ISSUER is set, so {needed} must be too")
    return settings
