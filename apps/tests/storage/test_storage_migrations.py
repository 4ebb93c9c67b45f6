"""Migrations bring SQLite and PostgreSQL to the same schema as the models, idempotently."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from florai.storage import Database, upgrade
from florai.storage.migrate import current_revision, downgrade, head_revision
from florai.storage.tables import Base

TABLES = {"users", "api_keys", "consent_settings", "consent_audit", "image_records"}


def test_upgrade_creates_every_table_and_is_idempotent(database_url):
    assert upgrade(database_url) == head_revision()
    assert upgrade(database_url) == head_revision()  # second run: nothing to do, no error
    db = Database(database_url)
    try:
        assert set(inspect(db.engine).get_table_names()) >= TABLES
        with db.engine.connect() as connection:
            assert current_revision(connection) == head_revision()
    finally:
        db.dispose()


def test_models_match_the_migrated_schema(database_url):
    upgrade(database_url)
    db = Database(database_url)
    try:
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        db.dispose()


def test_downgrade_to_base_and_up_again(database_url):
    upgrade(database_url)
    downgrade(database_url, "base")
    db = Database(database_url)
    try:
        assert not TABLES & set(inspect(db.engine).get_table_names())
        upgrade(db.engine)
        assert set(inspect(db.engine).get_table_names()) >= TABLES
    finally:
        db.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    url = f"sqlite:///{tmp_path / 'nested' / 'florai.db'}"  # parent folder created on demand
    upgrade(url)
    db = Database(url)
    try:
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.ping()
    finally:
        db.dispose()
