"""Alembic migrations of the FlorAI database (run with ``florai.storage.migrate.upgrade``)."""
