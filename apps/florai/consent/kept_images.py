"""The records of kept images that must go: a user's own (erasure on request), those of users who no
longer consent to keeping images, and those kept longer than the retention period.

Each query returns (record id, storage URI) pairs; once the objects are deleted from the image store,
``forget`` turns the records into discarded ones (usage then counts them as discarded, never kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, false, select, true, update

from florai.storage.database import Database
from florai.storage.tables import ConsentSetting, ImageRecord

# Records handled per sweep step (each step deletes their objects, then updates them in one statement).
SWEEP_BATCH = 500


@dataclass(frozen=True)
class KeptImage:
    record_id: int
    user_id: str
    storage_uri: str


def _kept(rows) -> list[KeptImage]:  # noqa: ANN001 (SQLAlchemy rows)
    return [KeptImage(row.id, row.user_id, row.storage_uri) for row in rows]


_COLUMNS = (ImageRecord.id, ImageRecord.user_id, ImageRecord.storage_uri)


class KeptImages:
    def __init__(self, db: Database) -> None:
        self.db = db

    def of_user(self, user_id: str) -> list[KeptImage]:
        query = select(*_COLUMNS).where(ImageRecord.user_id == user_id, ImageRecord.kept == true())
        with self.db.session() as session:
            return _kept(session.execute(query.order_by(ImageRecord.id)))

    def withdrawn(self, limit: int = SWEEP_BATCH) -> list[KeptImage]:
        """Kept images whose owner's store_images consent is off now."""
        query = (
            select(*_COLUMNS)
            .join(ConsentSetting, ConsentSetting.user_id == ImageRecord.user_id)
            .where(and_(ImageRecord.kept == true(), ConsentSetting.store_images == false()))
            .order_by(ImageRecord.id)
            .limit(limit)
        )
        with self.db.session() as session:
            return _kept(session.execute(query))

    def expired(self, before: datetime, limit: int = SWEEP_BATCH) -> list[KeptImage]:
        """Kept images recorded before ``before`` (the retention period ends)."""
        query = (
            select(*_COLUMNS)
            .where(ImageRecord.kept == true(), ImageRecord.created_at < before)
            .order_by(ImageRecord.id)
            .limit(limit)
        )
        with self.db.session() as session:
            return _kept(session.execute(query))

    def forget(self, record_ids: Sequence[int]) -> int:
        """Mark the records discarded (their objects are gone); returns how many changed."""
        if not record_ids:
            return 0
        statement = (
            update(ImageRecord)
            .where(ImageRecord.id.in_(list(record_ids)), ImageRecord.kept == true())
            .values(kept=False, storage_uri=None, used_for_training=False)
        )
        with self.db.session() as session:
            return session.execute(statement).rowcount
