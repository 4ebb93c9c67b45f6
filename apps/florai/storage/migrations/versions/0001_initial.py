"""Initial schema: users, api_keys, consent_settings, consent_audit (append-only), image_records.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from florai.storage.tables import BigId, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY_MESSAGE = "consent_audit is append-only"

# PostgreSQL: one trigger function refuses UPDATE and DELETE on the audit log.
PG_APPEND_ONLY = f"""
CREATE FUNCTION consent_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER consent_audit_no_update_delete BEFORE UPDATE OR DELETE ON consent_audit
    FOR EACH ROW EXECUTE FUNCTION consent_audit_append_only();
CREATE TRIGGER consent_audit_no_truncate BEFORE TRUNCATE ON consent_audit
    FOR EACH STATEMENT EXECUTE FUNCTION consent_audit_append_only();
"""
SQLITE_APPEND_ONLY = [
    f"CREATE TRIGGER consent_audit_no_{op_name.lower()} BEFORE {op_name} ON consent_audit "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
    for op_name in ("UPDATE", "DELETE")
]


def _now() -> sa.TextClause:
    return sa.text("CURRENT_TIMESTAMP")


def _user_fk(table: str) -> sa.ForeignKey:
    # Same name as tables.NAMING_CONVENTION gives it, so models and schema compare equal.
    return sa.ForeignKey("users.id", name=f"fk_{table}_user_id_users")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=_now()),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.Column("user_id", sa.String(255), _user_fk("api_keys"), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=_now()),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_table(
        "consent_settings",
        sa.PrimaryKeyConstraint("user_id", name="pk_consent_settings"),
        sa.Column("user_id", sa.String(255), _user_fk("consent_settings"), nullable=False),
        sa.Column("store_images", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("allow_training", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_at", UTCDateTime(), nullable=False, server_default=_now()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
    )
    op.create_table(
        "consent_audit",
        sa.PrimaryKeyConstraint("id", name="pk_consent_audit"),
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("user_id", sa.String(255), _user_fk("consent_audit"), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False, server_default=_now()),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("old_value", sa.String(255), nullable=True),
        sa.Column("new_value", sa.String(255), nullable=True),
    )
    op.create_index("ix_consent_audit_user_id_id", "consent_audit", ["user_id", "id"])
    op.create_table(
        "image_records",
        sa.PrimaryKeyConstraint("id", name="pk_image_records"),
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("user_id", sa.String(255), _user_fk("image_records"), nullable=False),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("kept", sa.Boolean(), nullable=False),
        sa.Column("used_for_training", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("storage_uri", sa.String(1024), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=_now()),
    )
    op.create_index("ix_image_records_user_id_task", "image_records", ["user_id", "task"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_APPEND_ONLY)
    else:
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)


def downgrade() -> None:
    # The audit log is evidence: a downgrade drops the schema only on a database being discarded.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE consent_audit")
        op.execute("DROP FUNCTION consent_audit_append_only()")
    else:
        op.drop_table("consent_audit")
    for table in ("image_records", "consent_settings", "api_keys", "users"):
        op.drop_table(table)
