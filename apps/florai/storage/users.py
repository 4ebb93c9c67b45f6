"""Users are created on first use: the id is the external subject (JWT ``sub`` or a key's owner)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from florai.storage.tables import User

# Per dialect, built once: INSERT ... ON CONFLICT (id) DO NOTHING.
_INSERT_USER = {
    "postgresql": postgresql.insert(User).on_conflict_do_nothing(index_elements=["id"]),
    "sqlite": sqlite.insert(User).on_conflict_do_nothing(index_elements=["id"]),
}


def ensure_user(session: Session | Connection, user_id: str) -> None:
    """Insert the user row unless it exists (safe when two requests race to create it)."""
    ensure_users(session, [user_id])


def ensure_users(session: Session | Connection, user_ids: Iterable[str]) -> None:
    """``ensure_user`` for several users in one statement (in a session or a Core transaction)."""
    ids = sorted(set(user_ids))
    if not all(ids):
        raise ValueError("user id must be a non-empty string")
    if not ids:
        return
    dialect = (session.get_bind() if isinstance(session, Session) else session).dialect.name
    session.execute(_INSERT_USER[dialect], [{"id": user_id} for user_id in ids])
