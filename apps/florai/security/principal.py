"""Who is calling: the authenticated principal, and the error every failed check raises."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Longest user id the database stores (florai.storage.tables.USER_ID_LENGTH agrees; a test checks).
MAX_USER_ID_LENGTH = 255
# User ids of token subjects start with this; API-key owners' ids never do (florai.security.api_keys).
JWT_USER_PREFIX = "jwt:"


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


def user_id_problem(user_id: object, max_length: int = MAX_USER_ID_LENGTH) -> str | None:
    """Why ``user_id`` cannot be a user id, or None: it must be non-blank text of at most
    ``max_length`` characters without control characters or lone surrogates (PostgreSQL refuses
    NUL and text that is not UTF-8; the others have no place in an id)."""
    if not isinstance(user_id, str) or not user_id.strip():
        return "must be a non-empty string"
    if len(user_id) > max_length:
        return f"is longer than {max_length} characters"
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in user_id):
        return "contains control characters"
    return None
