"""Who is calling: the authenticated principal, and the error every failed check raises."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: ``user_id`` owns the data; ``key_id`` is set for API keys, None for JWTs."""

    user_id: str
    key_id: str | None = None

    @property
    def rate_limit_key(self) -> str:
        """The bucket this caller's requests draw from (per key, or per user for tokens)."""
        return f"key:{self.key_id}" if self.key_id else f"user:{self.user_id}"


class AuthError(Exception):
    """Authentication failed (HTTP 401); the message says why, without echoing the credential."""
