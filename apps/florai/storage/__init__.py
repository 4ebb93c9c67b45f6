"""Storage: SQLAlchemy 2 schema, engine/sessions and Alembic migrations (``upgrade(url)``)."""

from florai.storage.database import Database, DatabaseUnavailable, engine_for, sqlite_url
from florai.storage.migrate import upgrade

__all__ = ["Database", "DatabaseUnavailable", "engine_for", "sqlite_url", "upgrade"]
