"""ConsentService: per-user consent settings, their append-only audit log and image usage.

Every change writes the new settings and one audit row per changed field in ONE transaction,
guarded by an optimistic version check. Methods are synchronous (see florai.storage.database);
they raise ``florai.storage.DatabaseUnavailable`` when the database is down.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, exc, func, insert, select, update
from sqlalchemy.orm import Session

from florai.consent.settings import CONSENT_FIELDS, AuditEntry, ConsentSettings, TaskUsage, Usage
from florai.metrics import CONSENT_CHANGES
from florai.storage.clock import Clock, utc_now
from florai.storage.database import Database
from florai.storage.tables import ConsentAudit, ConsentSetting, ImageRecord
from florai.storage.users import ensure_user, ensure_users

log = logging.getLogger(__name__)

MAX_AUDIT_PAGE = 500
# The audit field of an erasure of the user's images and image records (DELETE /consent/data).
DATA_ERASED = "data_erased"
# Concurrent writers of the same user's settings retry this often before giving up.
UPDATE_ATTEMPTS = 3


class ConsentError(ValueError):
    """A consent change the service refuses (unknown field, non-boolean value)."""


class ConsentConflictError(RuntimeError):
    """The settings changed since the version the caller read (HTTP 409)."""


class _VersionRaceError(Exception):
    pass


def _encode(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def _decode(value: str | None) -> bool | None:
    return None if value is None else value == "true"


def _validate(changes: Mapping[str, object]) -> dict[str, bool]:
    unknown = sorted(set(changes) - set(CONSENT_FIELDS))
    if unknown:
        raise ConsentError(f"unknown consent setting(s) {unknown}; known: {list(CONSENT_FIELDS)}")
    for name, value in changes.items():
        if not isinstance(value, bool):
            raise ConsentError(f"consent setting {name!r} must be true or false, got {value!r}")
    return dict(changes)  # type: ignore[arg-type]


_SETTING_COLUMNS = (
    ConsentSetting.user_id,
    ConsentSetting.store_images,
    ConsentSetting.allow_training,
    ConsentSetting.version,
    ConsentSetting.updated_at,
)


# Built once: constructing a statement costs more than running it on the per-request path.
_SELECT_SETTINGS = select(*_SETTING_COLUMNS).where(
    ConsentSetting.user_id.in_(bindparam("ids", expanding=True))
)
_INSERT_RECORDS = insert(ImageRecord).returning(ImageRecord.id, sort_by_parameter_order=True)


def _settings(user_id: str, row: ConsentSetting | Any | None) -> ConsentSettings:
    if row is None:
        return ConsentSettings(user_id=user_id)
    return ConsentSettings(
        user_id=user_id,
        store_images=row.store_images,
        allow_training=row.allow_training,
        version=row.version,
        updated_at=row.updated_at,
    )


class ConsentService:
    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        self.db = db
        self.clock = clock

    def get(self, user_id: str) -> ConsentSettings:
        """The user's settings; the defaults (nothing kept) when they never set any."""
        with self.db.session() as session:
            return _settings(user_id, session.get(ConsentSetting, user_id))

    def update(
        self,
        user_id: str,
        actor: str,
        changes: Mapping[str, object],
        expected_version: int | None = None,
    ) -> ConsentSettings:
        """Apply ``changes`` (setting -> bool) for ``user_id`` on behalf of ``actor``.

        Writes the settings and one audit row per field whose value really changes, atomically;
        a change to the current values writes nothing. With ``expected_version`` the update is
        refused with ConsentConflictError unless the stored version matches (compare-and-set).
        """
        wanted = _validate(changes)
        for attempt in range(UPDATE_ATTEMPTS):
            try:
                with self.db.session() as session:
                    result, changed = self._apply(session, user_id, actor, wanted, expected_version)
            except (_VersionRaceError, exc.IntegrityError):
                if expected_version is not None or attempt == UPDATE_ATTEMPTS - 1:
                    raise ConsentConflictError(
                        f"consent settings of {user_id!r} changed concurrently"
                    ) from None
                continue
            for name in changed:
                CONSENT_CHANGES.labels(setting=name, value=_encode(getattr(result, name))).inc()
            if changed:
                log.info("consent changed", extra={"user_id": user_id, "actor": actor, "fields": changed})
            return result
        raise AssertionError("unreachable")

    def _apply(
        self,
        session: Session,
        user_id: str,
        actor: str,
        wanted: dict[str, bool],
        expected_version: int | None,
    ) -> tuple[ConsentSettings, list[str]]:
        ensure_user(session, user_id)
        # Without a version the write must apply: lock the user's row (PostgreSQL), so concurrent
        # writers queue behind each other instead of racing and losing (a first write can still
        # meet another first write: its INSERT fails and update() retries, then finds the row).
        locked = expected_version is None
        current = _settings(user_id, session.get(ConsentSetting, user_id, with_for_update=locked))
        if expected_version is not None and current.version != expected_version:
            raise ConsentConflictError(
                f"consent settings of {user_id!r} are at version {current.version}, not {expected_version}"
            )
        changed = [
            name for name in CONSENT_FIELDS if name in wanted and wanted[name] != getattr(current, name)
        ]
        if not changed:
            return current, []
        now = self.clock()
        values = {**current.as_dict(), **{name: wanted[name] for name in changed}}
        new_version = current.version + 1
        if current.version == 0:
            # A concurrent first write makes this INSERT fail (primary key); update() retries.
            session.execute(
                insert(ConsentSetting).values(user_id=user_id, updated_at=now, version=new_version, **values)
            )
        else:
            written = session.execute(
                update(ConsentSetting)
                .where(ConsentSetting.user_id == user_id, ConsentSetting.version == current.version)
                .values(updated_at=now, version=new_version, **values)
            )
            if written.rowcount != 1:
                raise _VersionRaceError()
        session.flush()
        self._write_audit(
            session, user_id, actor, now, [(n, getattr(current, n), values[n]) for n in changed]
        )
        updated = ConsentSettings(user_id=user_id, version=new_version, updated_at=now, **values)
        return updated, changed

    def _write_audit(self, session: Session, user_id: str, actor: str, when, rows) -> None:
        # The only write path to consent_audit: INSERT. There is no update or delete in code.
        session.execute(
            insert(ConsentAudit),
            [
                {
                    "user_id": user_id,
                    "actor": actor,
                    "changed_at": when,
                    "field": name,
                    "old_value": _encode(old),
                    "new_value": _encode(new),
                }
                for name, old, new in rows
            ],
        )

    def erase_images(self, user_id: str, actor: str) -> int:
        """Delete every image record of ``user_id`` and write one audit row (``data_erased``) in ONE
        transaction; returns how many records went. The caller deletes the stored objects first
        (florai.services.erasure), so no record outlives its image and no image its record."""
        with self.db.session() as session:
            ensure_user(session, user_id)
            deleted = session.execute(delete(ImageRecord).where(ImageRecord.user_id == user_id)).rowcount
            self._write_audit(session, user_id, actor, self.clock(), [(DATA_ERASED, None, True)])
        log.info("image data erased", extra={"user_id": user_id, "actor": actor, "records": deleted})
        return deleted

    def audit(self, user_id: str, limit: int = 50, before_id: int | None = None) -> list[AuditEntry]:
        """The user's audit entries, newest first; page with ``before_id`` (the last id seen)."""
        limit = max(1, min(limit, MAX_AUDIT_PAGE))
        query = select(ConsentAudit).where(ConsentAudit.user_id == user_id)
        if before_id is not None:
            query = query.where(ConsentAudit.id < before_id)
        query = query.order_by(ConsentAudit.id.desc()).limit(limit)
        with self.db.session() as session:
            return [
                AuditEntry(
                    id=row.id,
                    user_id=row.user_id,
                    actor=row.actor,
                    changed_at=row.changed_at,
                    field=row.field,
                    old_value=_decode(row.old_value),
                    new_value=_decode(row.new_value),
                )
                for row in session.scalars(query)
            ]

    def usage(self, user_id: str) -> Usage:
        """Counts of the user's images: kept, discarded and used for training, by task."""
        query = (
            select(ImageRecord.task, ImageRecord.kept, ImageRecord.used_for_training, func.count())
            .where(ImageRecord.user_id == user_id)
            .group_by(ImageRecord.task, ImageRecord.kept, ImageRecord.used_for_training)
        )
        counts: dict[str, dict[str, int]] = {}
        with self.db.session() as session:
            for task, kept, trained, n in session.execute(query):
                bucket = counts.setdefault(task, {"kept": 0, "discarded": 0, "used_for_training": 0})
                bucket["kept" if kept else "discarded"] += n
                if trained:
                    bucket["used_for_training"] += n
        by_task = {task: TaskUsage(**counts[task]) for task in sorted(counts)}
        return Usage(
            user_id=user_id,
            kept=sum(t.kept for t in by_task.values()),
            discarded=sum(t.discarded for t in by_task.values()),
            used_for_training=sum(t.used_for_training for t in by_task.values()),
            by_task=by_task,
        )

    def settings_or_record_discarded(
        self, discarded: Sequence[ImageUse]
    ) -> tuple[dict[str, ConsentSettings], list[int] | None]:
        """The owners' settings and, when none of them keeps images, ``discarded`` recorded in the
        same transaction (their record ids, in order); else nothing recorded (None): the caller
        stores the kept images first, outside any transaction, then calls ``record_images``.

        The common case (no consent to keep) costs one transaction instead of two. Core, not the
        ORM: this runs for every inference request (florai.consent.retain_all)."""
        if any(use.kept for use in discarded):
            raise ValueError("settings_or_record_discarded records discarded images only")
        with self.db.transaction(durable=False) as connection:
            settings = _select_settings(connection, (use.user_id for use in discarded))
            if any(wanted.store_images for wanted in settings.values()):
                return settings, None
            return settings, _insert_records(connection, discarded, self.clock())

    def record_image(
        self,
        user_id: str,
        task: str,
        sha256: str,
        kept: bool,
        storage_uri: str | None = None,
        used_for_training: bool = False,
    ) -> int:
        """Record one image the user sent (kept or discarded); returns the record id."""
        use = ImageUse(user_id, task, sha256, kept, storage_uri, used_for_training)
        return self.record_images([use])[0]

    def record_images(self, uses: Sequence[ImageUse]) -> list[int]:
        """Record many images in ONE transaction (one commit: group commit under load); ids in order."""
        for use in uses:
            if use.kept != (use.storage_uri is not None):
                raise ValueError("a kept image needs its storage_uri; a discarded one has none")
        if not uses:
            return []
        # Core statements, not the ORM's unit of work: this runs for every inference request,
        # where the ORM cost 2-3 CPU-ms per transaction.
        with self.db.transaction(durable=False) as connection:
            return _insert_records(connection, uses, self.clock())


def _select_settings(connection: Connection, user_ids: Iterable[str]) -> dict[str, ConsentSettings]:
    ids = sorted(set(user_ids))
    found = {row.user_id: row for row in connection.execute(_SELECT_SETTINGS, {"ids": ids})}
    return {user_id: _settings(user_id, found.get(user_id)) for user_id in ids}


def _insert_records(connection: Connection, uses: Sequence[ImageUse], now: datetime) -> list[int]:
    """One multi-row INSERT ... RETURNING of the usage records (their users created first)."""
    if not uses:
        return []
    rows = [
        {
            "user_id": use.user_id,
            "task": use.task,
            "sha256": use.sha256,
            "kept": use.kept,
            "used_for_training": use.kept and use.used_for_training,
            "storage_uri": use.storage_uri,
            "created_at": now,
        }
        for use in uses
    ]
    ensure_users(connection, (use.user_id for use in uses))
    return list(connection.execute(_INSERT_RECORDS, rows).scalars())


@dataclass(frozen=True)
class ImageUse:
    """One image a user sent, as recorded: kept (with its storage URI) or discarded."""

    user_id: str
    task: str
    sha256: str
    kept: bool
    storage_uri: str | None = None
    used_for_training: bool = False
