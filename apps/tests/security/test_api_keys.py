"""API keys: stored only as a keyed hash, verified, revoked; the development key is idempotent."""

from __future__ import annotations

import stat
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from florai.security import ApiKeyStore, AuthError, Principal, hash_api_key, pepper_from_file
from florai.storage import Database, upgrade

PEPPER = "test-pepper-0123456789abcdef"


@pytest.fixture
def db(database_url) -> Iterator[Database]:
    upgrade(database_url)
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def keys(db) -> ApiKeyStore:
    return ApiKeyStore(db, PEPPER)


def test_create_then_verify(keys):
    created = keys.create("alice", "laptop")
    assert created.plaintext.startswith("flk_") and len(created.plaintext) > 40
    assert created.prefix == created.plaintext[:12]
    assert keys.verify(created.plaintext) == Principal(user_id="alice", key_id=created.id)
    assert keys.create("alice", "phone").plaintext != created.plaintext


def test_only_the_keyed_hash_is_stored(keys, db):
    created = keys.create("alice", "laptop")
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM api_keys")).mappings().all()
    stored = " ".join(str(v) for row in rows for v in row.values())
    assert created.plaintext not in stored
    assert rows[0]["key_hash"] == hash_api_key(created.plaintext, PEPPER)
    assert hash_api_key(created.plaintext, PEPPER) != hash_api_key(created.plaintext, PEPPER + "x")


def test_unknown_missing_and_other_pepper_refused(keys, db):
    created = keys.create("alice", "laptop")
    with pytest.raises(AuthError, match="missing API key"):
        keys.verify("")
    with pytest.raises(AuthError, match="invalid API key"):
        keys.verify(created.plaintext + "x")
    with pytest.raises(AuthError, match="invalid API key"):  # a database copied without the pepper
        ApiKeyStore(db, "another-pepper-0123456789").verify(created.plaintext)


def test_revoked_key_refused_and_only_its_owner_revokes(keys):
    created = keys.create("alice", "laptop")
    assert keys.revoke(created.id, user_id="bob") is False
    assert keys.verify(created.plaintext).user_id == "alice"
    assert keys.revoke(created.id, user_id="alice") is True
    assert keys.revoke(created.id) is False  # already revoked
    with pytest.raises(AuthError, match="revoked"):
        keys.verify(created.plaintext)
    [info] = keys.list("alice")
    assert info.revoked_at is not None and info.prefix == created.prefix
    assert keys.list("bob") == []


def test_dev_key_is_registered_once(keys):
    dev_key = "dev-key-from-FLORAI_API_KEY-123"
    first = keys.ensure_dev_key(dev_key, user_id="dev")
    assert keys.ensure_dev_key(dev_key, user_id="dev") == first  # a restart finds the same key
    assert keys.verify(dev_key) == first
    assert len(keys.list("dev")) == 1
    with pytest.raises(ValueError, match="at least"):
        keys.ensure_dev_key("short")


def test_weak_pepper_refused(db):
    with pytest.raises(ValueError, match="pepper"):
        ApiKeyStore(db, "short")


def test_pepper_file_created_private_and_stable(tmp_path):
    path = tmp_path / "secrets" / "api_key_pepper"
    pepper = pepper_from_file(path)
    assert len(pepper) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert pepper_from_file(path) == pepper
