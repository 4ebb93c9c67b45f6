"""API keys: random secrets shown once; only an HMAC-SHA256 of each (keyed by a server pepper) is stored.

The pepper lives outside the database (env or a file), so a leaked database alone cannot be
used to test guessed keys. Lookup is by the keyed hash, which reveals nothing about other keys;
the stored and computed digests are then compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update

from florai.security.principal import JWT_USER_PREFIX, AuthError, Principal, user_id_problem
from florai.storage.clock import Clock, utc_now
from florai.storage.database import Database
from florai.storage.tables import ApiKey
from florai.storage.users import ensure_user

KEY_PREFIX = "flk_"
KEY_RANDOM_BYTES = 32
DISPLAY_PREFIX_LENGTH = 12
MIN_PEPPER_BYTES = 16
PEPPER_FILE_BYTES = 32
MAX_KEY_NAME_LENGTH = 100  # the api_keys.name column


def _pepper_bytes(pepper: str | bytes) -> bytes:
    raw = pepper.encode() if isinstance(pepper, str) else pepper
    if len(raw) < MIN_PEPPER_BYTES:
        raise ValueError(f"the API key pepper must be at least {MIN_PEPPER_BYTES} bytes")
    return raw


def hash_api_key(plaintext: str, pepper: str | bytes) -> str:
    """Hex HMAC-SHA256 of the key under the server pepper (what the database stores)."""
    return hmac.new(_pepper_bytes(pepper), plaintext.encode(), hashlib.sha256).hexdigest()


def generate_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)


def pepper_from_file(path: Path) -> bytes:
    """The pepper kept in ``path`` (embedded mode), created with 0600 permissions on first use."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(PEPPER_FILE_BYTES))
    return path.read_text().strip().encode()


@dataclass(frozen=True)
class CreatedKey:
    """A new key: ``plaintext`` is returned this once and never stored."""

    id: str
    user_id: str
    name: str
    prefix: str
    plaintext: str


@dataclass(frozen=True)
class ApiKeyInfo:
    id: str
    user_id: str
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyStore:
    def __init__(self, db: Database, pepper: str | bytes, clock: Clock = utc_now) -> None:
        self.db = db
        self.pepper = _pepper_bytes(pepper)
        self.clock = clock

    def _insert(self, user_id: str, name: str, plaintext: str) -> CreatedKey:
        problem = user_id_problem(user_id)
        if problem is not None:
            raise ValueError(f"user id {problem}")
        if user_id.startswith(JWT_USER_PREFIX):
            raise ValueError(f"user ids starting with {JWT_USER_PREFIX!r} belong to token subjects")
        if not name or len(name) > MAX_KEY_NAME_LENGTH:
            raise ValueError(f"a key name must have 1 to {MAX_KEY_NAME_LENGTH} characters")
        key = CreatedKey(uuid.uuid4().hex, user_id, name, plaintext[:DISPLAY_PREFIX_LENGTH], plaintext)
        with self.db.session() as session:
            ensure_user(session, user_id)
            session.add(
                ApiKey(
                    id=key.id,
                    user_id=user_id,
                    name=name,
                    key_hash=hash_api_key(plaintext, self.pepper),
                    prefix=key.prefix,
                    created_at=self.clock(),
                )
            )
        return key

    def create(self, user_id: str, name: str) -> CreatedKey:
        """A new random key for ``user_id``; show ``.plaintext`` to the user once."""
        return self._insert(user_id, name, generate_api_key())

    def verify(self, plaintext: str | None) -> Principal:
        """The principal owning ``plaintext``; AuthError when missing, unknown or revoked."""
        if not plaintext:
            raise AuthError("missing API key")
        digest = hash_api_key(plaintext, self.pepper)
        with self.db.session() as session:
            row = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
        if row is None or not hmac.compare_digest(row.key_hash, digest):
            raise AuthError("invalid API key")
        if row.revoked_at is not None:
            raise AuthError("API key revoked")
        return Principal(user_id=row.user_id, key_id=row.id)

    def revoke(self, key_id: str, user_id: str | None = None) -> bool:
        """Revoke a key (only the owner's, when ``user_id`` is given); False if none was live."""
        query = update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        if user_id is not None:
            query = query.where(ApiKey.user_id == user_id)
        with self.db.session() as session:
            return session.execute(query.values(revoked_at=self.clock())).rowcount == 1

    def list(self, user_id: str | None = None) -> list[ApiKeyInfo]:
        """The keys of ``user_id`` (every user's when None), oldest first; never their secrets."""
        query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
        if user_id is not None:
            query = query.where(ApiKey.user_id == user_id)
        with self.db.session() as session:
            return [
                ApiKeyInfo(r.id, r.user_id, r.name, r.prefix, r.created_at, r.revoked_at)
                for r in session.scalars(query)
            ]

    def ensure_dev_key(
        self, plaintext: str, user_id: str = "dev", name: str = "development key"
    ) -> Principal:
        """Register ``plaintext`` (FLORAI_API_KEY) for ``user_id`` unless it is stored already.

        Idempotent across restarts; a dev key revoked on purpose stays revoked.
        """
        if len(plaintext) < MIN_PEPPER_BYTES:
            raise ValueError(f"the development API key must be at least {MIN_PEPPER_BYTES} characters")
        digest = hash_api_key(plaintext, self.pepper)
        with self.db.session() as session:
            row = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
        if row is not None:
            return Principal(user_id=row.user_id, key_id=row.id)
        key = self._insert(user_id, name, plaintext)
        return Principal(user_id=key.user_id, key_id=key.id)
