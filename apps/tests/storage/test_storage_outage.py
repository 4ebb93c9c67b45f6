"""PostgreSQL stopped mid-run: ping is false, work fails with DatabaseUnavailable, nothing is lost."""

from __future__ import annotations

import time

import pytest

from florai.consent import ConsentService
from florai.storage import Database, DatabaseUnavailable, upgrade


def test_database_outage_and_recovery(postgres_server, postgres_url):
    upgrade(postgres_url)
    db = Database(postgres_url)
    consent = ConsentService(db)
    try:
        consent.update("alice", "alice", {"store_images": True})
        consent.record_image("alice", "identify", "a" * 64, kept=False)
        assert db.ping()

        postgres_server.stop()
        started = time.monotonic()
        assert not db.ping()
        with pytest.raises(DatabaseUnavailable, match="database unavailable"):
            consent.get("alice")
        with pytest.raises(DatabaseUnavailable):
            consent.update("alice", "alice", {"allow_training": True})
        assert time.monotonic() - started < 10  # fails fast, does not hang on the dead server

        postgres_server.start()
        assert db.ping()
        settings = consent.get("alice")
        assert settings.store_images is True and settings.allow_training is False
        assert consent.usage("alice").discarded == 1
        assert [e.field for e in consent.audit("alice")] == ["store_images"]
        consent.update("alice", "alice", {"allow_training": True})  # writes work again
        assert consent.get("alice").version == 2
    finally:
        postgres_server.start()
        db.dispose()
