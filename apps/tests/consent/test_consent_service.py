"""ConsentService on SQLite and real PostgreSQL: atomic change + audit, append-only, isolation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from florai.consent import ConsentConflictError, ConsentError, ConsentService, ConsentSettings
from florai.metrics import CONSENT_CHANGES
from florai.storage import Database, upgrade
from florai.storage.tables import ConsentAudit, ConsentSetting

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class StepClock:
    """A deterministic clock: every call is one second after the previous one."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def db(database_url) -> Iterator[Database]:
    upgrade(database_url)
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def consent(db) -> ConsentService:
    return ConsentService(db, clock=StepClock())


def _count(db: Database, table) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(table))


def test_defaults_when_never_set(consent):
    assert consent.get("nobody") == ConsentSettings(user_id="nobody")
    assert consent.get("nobody").as_dict() == {"store_images": False, "allow_training": False}
    assert consent.audit("nobody") == []


def test_update_writes_settings_and_one_audit_row_per_changed_field(consent, db):
    before = CONSENT_CHANGES.labels(setting="store_images", value="true")._value.get()
    first = consent.update("alice", "alice", {"store_images": True, "allow_training": False})
    assert (first.store_images, first.allow_training, first.version) == (True, False, 1)
    assert first.updated_at == T0 + timedelta(seconds=1)
    assert consent.get("alice") == first

    # allow_training did not change (False -> False): only one audit row.
    entries = consent.audit("alice")
    assert [(e.field, e.old_value, e.new_value, e.actor) for e in entries] == [
        ("store_images", False, True, "alice")
    ]
    assert entries[0].changed_at == first.updated_at
    assert CONSENT_CHANGES.labels(setting="store_images", value="true")._value.get() == before + 1

    second = consent.update("alice", "support-agent", {"store_images": False, "allow_training": True})
    assert second.version == 2
    newest_first = [(e.field, e.old_value, e.new_value, e.actor) for e in consent.audit("alice")]
    assert newest_first == [
        ("allow_training", False, True, "support-agent"),
        ("store_images", True, False, "support-agent"),
        ("store_images", False, True, "alice"),
    ]


def test_no_op_change_writes_nothing(consent, db):
    consent.update("alice", "alice", {"store_images": True})
    unchanged = consent.update("alice", "alice", {"store_images": True})
    assert unchanged.version == 1
    assert _count(db, ConsentAudit) == 1
    assert consent.update("bob", "bob", {"store_images": False}).version == 0  # default stays default
    assert _count(db, ConsentSetting) == 1


def test_invalid_changes_are_refused(consent):
    with pytest.raises(ConsentError, match="unknown consent setting"):
        consent.update("alice", "alice", {"sell_my_data": True})
    with pytest.raises(ConsentError, match="must be true or false"):
        consent.update("alice", "alice", {"store_images": "yes"})
    assert consent.get("alice").version == 0


def test_expected_version_is_a_compare_and_set(consent):
    consent.update("alice", "alice", {"store_images": True})
    with pytest.raises(ConsentConflictError, match="version 1, not 0"):
        consent.update("alice", "alice", {"allow_training": True}, expected_version=0)
    assert consent.update("alice", "alice", {"allow_training": True}, expected_version=1).version == 2


class FailingAuditService(ConsentService):
    """Fails after the settings row is written and before the audit rows are: a crash mid-change."""

    def _write_audit(self, session, user_id, actor, when, rows) -> None:
        assert session.get(ConsentSetting, user_id) is not None  # the first write really happened
        raise RuntimeError("simulated crash between the settings write and the audit write")


def test_change_and_audit_are_one_transaction(db, consent):
    consent.update("alice", "alice", {"store_images": True})
    failing = FailingAuditService(db, clock=StepClock())
    with pytest.raises(RuntimeError, match="simulated crash"):
        failing.update("alice", "alice", {"allow_training": True, "store_images": False})
    with pytest.raises(RuntimeError, match="simulated crash"):
        failing.update("carol", "carol", {"store_images": True})  # first-ever write (INSERT path)

    after = consent.get("alice")
    assert (after.store_images, after.allow_training, after.version) == (True, False, 1)
    assert consent.get("carol").version == 0
    assert _count(db, ConsentAudit) == 1


def test_audit_log_is_append_only_in_the_database(db, consent):
    consent.update("alice", "alice", {"store_images": True})
    for statement in ("UPDATE consent_audit SET new_value = 'false'", "DELETE FROM consent_audit"):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(text(statement))
    if db.dialect == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(text("TRUNCATE consent_audit"))
    assert [e.new_value for e in consent.audit("alice")] == [True]


def test_users_see_only_their_own_audit_and_usage(consent):
    consent.update("alice", "alice", {"store_images": True})
    consent.update("bob", "bob", {"allow_training": True})
    consent.record_image("alice", "identify", "a" * 64, kept=True, storage_uri="/images/alice/a.jpg")
    consent.record_image("bob", "diagnose", "b" * 64, kept=False)

    assert {e.user_id for e in consent.audit("alice")} == {"alice"}
    assert [e.field for e in consent.audit("bob")] == ["allow_training"]
    alice, bob = consent.usage("alice"), consent.usage("bob")
    assert (alice.kept, alice.discarded, list(alice.by_task)) == (1, 0, ["identify"])
    assert (bob.kept, bob.discarded, list(bob.by_task)) == (0, 1, ["diagnose"])
    assert consent.usage("mallory").by_task == {}


def test_audit_pages_newest_first(consent):
    for i in range(5):
        consent.update("alice", "alice", {"store_images": i % 2 == 0})
    page1 = consent.audit("alice", limit=2)
    page2 = consent.audit("alice", limit=2, before_id=page1[-1].id)
    page3 = consent.audit("alice", limit=2, before_id=page2[-1].id)
    ids = [e.id for e in page1 + page2 + page3]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5
    assert [e.new_value for e in page1 + page2 + page3] == [True, False, True, False, True]


def test_usage_counts_by_task(consent):
    consent.record_image(
        "alice", "identify", "1" * 64, kept=True, storage_uri="s3://b/1", used_for_training=True
    )
    consent.record_image("alice", "identify", "2" * 64, kept=True, storage_uri="s3://b/2")
    consent.record_image("alice", "identify", "3" * 64, kept=False, used_for_training=True)  # not kept: never
    consent.record_image("alice", "growth-stage", "4" * 64, kept=False)
    usage = consent.usage("alice")
    assert (usage.kept, usage.discarded, usage.used_for_training) == (2, 2, 1)
    assert list(usage.by_task) == ["growth-stage", "identify"]
    identify = usage.by_task["identify"]
    assert (identify.kept, identify.discarded, identify.used_for_training) == (2, 1, 1)
    with pytest.raises(ValueError, match="storage_uri"):
        consent.record_image("alice", "identify", "5" * 64, kept=True)


def test_concurrent_updates_keep_version_and_audit_in_step(database_url):
    # Writers in threads: row locks on PostgreSQL, the one-writer lock (busy timeout) on SQLite.
    upgrade(database_url)
    db = Database(database_url)
    service = ConsentService(db)
    errors: list[BaseException] = []

    def flip(i: int) -> None:
        for j in range(5):
            try:
                service.update("alice", f"writer-{i}", {"store_images": (i + j) % 2 == 0})
            except ConsentConflictError:
                pass  # a writer may lose every retry under contention; it must not corrupt anything
            except BaseException as error:  # reported below
                errors.append(error)

    threads = [threading.Thread(target=flip, args=(i,)) for i in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        # Every version bump wrote exactly one audit row (only store_images changes), and the
        # log is a chain: each entry's old value is the previous entry's new value.
        entries = list(reversed(service.audit("alice", limit=100)))
        assert service.get("alice").version == len(entries) == _count(db, ConsentAudit) > 0
        assert all(a.new_value == b.old_value for a, b in zip(entries, entries[1:], strict=False))
        assert entries[-1].new_value == service.get("alice").store_images
    finally:
        db.dispose()
