"""Users are created on first use: the id is the external subject (JWT ``sub`` or a key's owner)."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from florai.storage.tables import User

_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def ensure_user(session: Session, user_id: str) -> None:
    """Insert the user row unless it exists (safe when two requests race to create it)."""
    if not user_id:
        raise ValueError("user id must be a non-empty string")
    insert = _INSERT[session.get_bind().dialect.name]
    session.execute(insert(User).values(id=user_id).on_conflict_do_nothing(index_elements=["id"]))
