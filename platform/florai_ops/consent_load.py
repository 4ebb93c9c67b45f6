"""Continuous consent writes through the app's own data layer, each change recorded with its commit time.

Every writer thread owns its users (no write conflicts between writers) and toggles one setting per
change, so each committed change writes exactly one ``consent_audit`` row whose ``actor`` names the
change uniquely. The commit time is the database's own (``pg_xact_commit_timestamp`` of the audit
row's ``xmin``; needs ``track_commit_timestamp = on``): the clock recovery targets are compared with.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from florai.consent import ConsentService
from florai.consent.settings import STORE_IMAGES
from florai.storage.database import Database, DatabaseUnavailable

USERS_PER_WRITER = 5
# The audit row this writer just wrote for a user it alone writes: its actor and commit time.
_LAST_AUDIT = text(
    "SELECT actor, pg_xact_commit_timestamp(xmin) FROM consent_audit "
    "WHERE user_id = :user_id ORDER BY id DESC LIMIT 1"
)


@dataclass(frozen=True)
class Change:
    """One committed consent change: who wrote it (unique actor), to which user, what value, when."""

    actor: str
    user_id: str
    store_images: bool
    committed_at: datetime


class ConsentWriter(threading.Thread):
    """Toggles ``store_images`` of its own users round-robin until stopped; records every commit."""

    def __init__(self, index: int, db: Database, stop: threading.Event) -> None:
        super().__init__(name=f"consent-writer-{index}", daemon=True)
        self.index = index
        self.service = ConsentService(db)
        self.db = db
        self.stop_event = stop
        self.users = [f"drill-w{index}-u{n}" for n in range(USERS_PER_WRITER)]
        self.changes: list[Change] = []
        self.errors: list[str] = []

    def run(self) -> None:
        sequence = 0
        while not self.stop_event.is_set():
            user_id = self.users[sequence % len(self.users)]
            actor = f"drill-w{self.index}-c{sequence}"
            sequence += 1
            try:
                wanted = not self.service.get(user_id).store_images
                self.service.update(user_id, actor, {STORE_IMAGES: wanted})
                with self.db.session() as session:
                    last_actor, committed_at = session.execute(_LAST_AUDIT, {"user_id": user_id}).one()
            except DatabaseUnavailable as error:  # a load generator keeps going, like the app's clients
                self.errors.append(str(error))
                continue
            if last_actor == actor:
                self.changes.append(Change(actor, user_id, wanted, committed_at))


class ConsentLoad:
    """``writers`` ConsentWriter threads against ``url``; ``stop()`` joins them and returns every change."""

    def __init__(self, url: str, writers: int) -> None:
        self.db = Database(url)
        self._stop = threading.Event()
        self.writers = [ConsentWriter(i, self.db, self._stop) for i in range(writers)]

    def start(self) -> None:
        for writer in self.writers:
            writer.start()

    def stop(self) -> list[Change]:
        self._stop.set()
        for writer in self.writers:
            writer.join()
        self.db.dispose()
        return sorted((c for w in self.writers for c in w.changes), key=lambda c: c.committed_at)

    @property
    def committed(self) -> int:
        return sum(len(w.changes) for w in self.writers)
