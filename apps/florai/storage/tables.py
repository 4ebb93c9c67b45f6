"""The database schema: SQLAlchemy 2 ORM tables (migrations in ``migrations/versions`` create them)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Constraint names fixed by convention so migrations and the models agree on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
USER_ID_LENGTH = 255
# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    """A client identity; ``id`` is the external subject (JWT ``sub`` or the key's owner)."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(USER_ID_LENGTH), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())


class ApiKey(Base):
    """An API key; only its keyed hash (HMAC-SHA256 with the server pepper) is stored."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConsentSetting(Base):
    """A user's current consent; ``version`` increments on every change (optimistic locking)."""

    __tablename__ = "consent_settings"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    store_images: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    allow_training: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class ConsentAudit(Base):
    """One changed consent field; append-only (a database trigger rejects UPDATE and DELETE)."""

    __tablename__ = "consent_audit"
    __table_args__ = (Index("ix_consent_audit_user_id_id", "user_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(String(255), nullable=True)
    new_value: Mapped[str | None] = mapped_column(String(255), nullable=True)


class ImageRecord(Base):
    """One image a user sent: whether it was kept (consent) and where, or discarded."""

    __tablename__ = "image_records"
    __table_args__ = (Index("ix_image_records_user_id_task", "user_id", "task"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    task: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    kept: Mapped[bool] = mapped_column(Boolean)
    used_for_training: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    storage_uri: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
