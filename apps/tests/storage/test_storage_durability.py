"""Commit durability: every transaction reaches the disk unless it is marked not durable (the
per-request image records) on embedded SQLite; then it skips the flush for that commit only.
PostgreSQL commits stay durable either way."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from florai.consent import ConsentService
from florai.storage import Database, upgrade
from florai.storage.database import SQLITE_RELAXED_SYNCHRONOUS, SQLITE_SYNCHRONOUS, sqlite_url

# PRAGMA synchronous answers a number.
SQLITE_LEVELS = {"OFF": 0, "NORMAL": 1, "FULL": 2, "EXTRA": 3}


def sqlite_level(connection) -> int:  # noqa: ANN001
    return connection.execute(text("PRAGMA synchronous")).scalar_one()


@pytest.fixture
def sqlite_db(tmp_path):
    db = Database(sqlite_url(tmp_path))
    upgrade(db.engine)
    yield db
    db.dispose()


def test_sqlite_commits_are_durable_by_default(sqlite_db):
    assert SQLITE_LEVELS[SQLITE_SYNCHRONOUS] > SQLITE_LEVELS[SQLITE_RELAXED_SYNCHRONOUS]
    with sqlite_db.transaction() as connection:
        assert sqlite_level(connection) == SQLITE_LEVELS[SQLITE_SYNCHRONOUS]
    with sqlite_db.session() as session:
        assert sqlite_level(session) == SQLITE_LEVELS[SQLITE_SYNCHRONOUS]


def test_sqlite_relaxed_commit_applies_to_its_own_transaction_only(sqlite_db):
    with sqlite_db.transaction(durable=False) as connection:
        assert sqlite_level(connection) == SQLITE_LEVELS[SQLITE_RELAXED_SYNCHRONOUS]
        connection.execute(text("INSERT INTO users (id, created_at) VALUES ('u1', CURRENT_TIMESTAMP)"))
    # The same pooled connection serves the next transactions: back to the durable level.
    for _ in range(3):
        with sqlite_db.transaction() as connection:
            assert sqlite_level(connection) == SQLITE_LEVELS[SQLITE_SYNCHRONOUS]
            assert connection.execute(text("SELECT count(*) FROM users")).scalar_one() == 1


def test_sqlite_relaxed_transaction_rolls_back_and_restores_the_level(sqlite_db):
    with pytest.raises(RuntimeError, match="boom"), sqlite_db.transaction(durable=False) as connection:
        connection.execute(text("INSERT INTO users (id, created_at) VALUES ('u2', CURRENT_TIMESTAMP)"))
        raise RuntimeError("boom")
    with sqlite_db.transaction() as connection:
        assert sqlite_level(connection) == SQLITE_LEVELS[SQLITE_SYNCHRONOUS]
        assert connection.execute(text("SELECT count(*) FROM users")).scalar_one() == 0


def test_image_records_commit_relaxed_consent_changes_durable(sqlite_db):
    levels: list[int] = []
    original = sqlite_db.transaction

    def spy(durable: bool = True):  # noqa: ANN202
        levels.append(durable)
        return original(durable)

    sqlite_db.transaction = spy
    consent = ConsentService(sqlite_db)
    consent.update("alice", "alice", {"store_images": True})
    consent.record_image("alice", "identify", "b" * 64, kept=False)
    assert levels == [False]  # record_images only; the consent change went through a durable session
    assert consent.usage("alice").discarded == 1
    assert [e.field for e in consent.audit("alice")] == ["store_images"]


def test_postgres_commits_stay_durable_even_when_not_asked(postgres_url):
    upgrade(postgres_url)
    # The test server runs with synchronous_commit=off for speed: these sessions start durable.
    separator = "&" if "?" in postgres_url else "?"
    db = Database(f"{postgres_url}{separator}options=-c%20synchronous_commit%3Don")
    try:
        with db.transaction(durable=False) as connection:
            assert connection.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
        for _ in range(3):  # whichever pooled connection comes next
            with db.transaction() as connection:
                assert connection.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
        consent = ConsentService(db)
        consent.record_image("carol", "identify", "c" * 64, kept=False)
        assert consent.usage("carol").discarded == 1
    finally:
        db.dispose()
