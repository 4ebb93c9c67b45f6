"""Schema migrations, run programmatically (no alembic.ini): ``upgrade(url)`` brings a database to head.

Idempotent: a database already at head is left as it is. On PostgreSQL an advisory lock makes
pods that start together run the migrations one after the other.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from florai.storage.database import engine_for

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Arbitrary constant naming this app's migration lock among PostgreSQL advisory locks.
ADVISORY_LOCK_ID = 0x466C6F7241490001


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(url_or_engine: str | Engine, revision: str = "head") -> str | None:
    """Migrate the database to ``revision`` (default head); return the revision it is at after."""
    engine = engine_for(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    try:
        with engine.connect() as connection:
            postgres = connection.dialect.name == "postgresql"
            if postgres:
                connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": ADVISORY_LOCK_ID})
                connection.commit()
            try:
                command.upgrade(alembic_config(connection), revision)
                connection.commit()
                return current_revision(connection)
            finally:
                if postgres:
                    connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": ADVISORY_LOCK_ID})
                    connection.commit()
    finally:
        if isinstance(url_or_engine, str):
            engine.dispose()


def downgrade(url: str, revision: str) -> None:
    """Migrate down to ``revision`` ("base" drops everything): for tests and disposable databases."""
    engine = engine_for(url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), revision)
    finally:
        engine.dispose()
