"""The service's settings: one object read from the environment.

Every default is the embedded mode `make serve` runs on: SQLite under the data folder,
in-process cache and rate limiter, reference models from ``.data/models``, images kept
in ``<data>/images``. The cluster overrides them per Deployment through env vars.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from florai import contract
from florai.inference.runtime import available_cpus

# Task -> env var naming an explicit model URI (local path or s3://) for it.
MODEL_URI_ENV = {
    contract.TASK_IDENTIFY: "FLORAI_MODEL_IDENTIFY",
    contract.TASK_DIAGNOSE: "FLORAI_MODEL_DIAGNOSE",
    contract.TASK_GROWTH_STAGE: "FLORAI_MODEL_GROWTH_STAGE",
}
DATABASE_FILE = "florai.db"
PEPPER_FILE = "api-key-pepper"
IMAGES_FOLDER = "images"


# An origin of FLORAI_CORS_ORIGINS: scheme, host and optional port, nothing else.
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


class SettingsError(ValueError):
    """A setting read from the environment is invalid; the message names the variable."""


def mask_credentials(value: str) -> str:
    """``value`` with the password of a URL's user info replaced by ``***`` (everything between the
    first ':' of the user info and the last '@', so a malformed URL cannot leak part of it)."""
    scheme, sep, rest = value.partition("://")
    at = rest.rfind("@")
    if not sep or at < 0:
        return value
    user, colon, _ = rest[:at].partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}{rest[at:]}"


def _parses(url: str, parser: Callable[[str], object]) -> None:
    """ValueError unless ``parser`` takes ``url``; its message may quote the URL, so it is not shown."""
    try:
        parser(url)
    except Exception as exc:
        raise ValueError(f"not a valid URL ({type(exc).__name__})") from None


class Settings(BaseSettings):
    """FlorAI service settings (env var names in each field's alias)."""

    model_config = SettingsConfigDict(env_prefix="FLORAI_", extra="ignore", populate_by_name=True)

    # Storage and shared services; unset = embedded (SQLite file, in-process cache/limiter).
    database_url: str | None = Field(None, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")
    data_dir: Path = Field(Path(".data"), validation_alias="FLORAI_DATA_DIR")
    # A local folder or an s3:// prefix holding one sub-folder per task.
    models_dir: str = Field(".data/models", validation_alias="FLORAI_MODELS_DIR")
    model_identify: str | None = Field(None, validation_alias=MODEL_URI_ENV[contract.TASK_IDENTIFY])
    model_diagnose: str | None = Field(None, validation_alias=MODEL_URI_ENV[contract.TASK_DIAGNOSE])
    model_growth_stage: str | None = Field(None, validation_alias=MODEL_URI_ENV[contract.TASK_GROWTH_STAGE])
    image_store_uri: str | None = Field(None, validation_alias="FLORAI_IMAGE_STORE_URI")
    image_store_kms_key_id: str | None = Field(None, validation_alias="FLORAI_IMAGE_STORE_KMS_KEY_ID")
    device: str | None = Field(None, validation_alias="FLORAI_DEVICE")

    # Which Deployment this process is (comma-separated names from contract.SERVICES); unset = all.
    services: Annotated[tuple[str, ...], NoDecode] = Field(
        contract.SERVICE_NAMES, validation_alias="FLORAI_SERVICES"
    )

    # Authentication.
    api_key: SecretStr | None = Field(None, validation_alias="FLORAI_API_KEY")
    # Stored API keys are hashed with this pepper; unset = a pepper file in the data folder.
    api_key_pepper: SecretStr | None = Field(None, validation_alias="FLORAI_API_KEY_PEPPER")
    # HS* shared secret or RS*/ES*/PS* PEM public key; unset = JWTs are not accepted.
    jwt_key: SecretStr | None = Field(None, validation_alias="FLORAI_JWT_KEY")
    jwt_algorithm: str = Field("HS256", validation_alias="FLORAI_JWT_ALGORITHM")
    jwt_audience: str | None = Field(None, validation_alias="FLORAI_JWT_AUDIENCE")
    jwt_issuer: str | None = Field(None, validation_alias="FLORAI_JWT_ISSUER")
    # The issuer's key set (JWKS, as Cognito and Auth0 publish it): instead of FLORAI_JWT_KEY.
    jwt_jwks_url: str | None = Field(None, validation_alias="FLORAI_JWT_JWKS_URL")
    # Longest a token may live (exp - iat): a stolen long-lived token is refused.
    jwt_max_lifetime_s: int = Field(86_400, ge=60, validation_alias="FLORAI_JWT_MAX_LIFETIME_S")
    # Failed authentication per client address (token bucket): refused with 429 once spent.
    auth_failure_rate_per_s: float = Field(1.0, gt=0, validation_alias="FLORAI_AUTH_FAILURE_RATE_PER_S")
    auth_failure_burst: int = Field(10, ge=1, validation_alias="FLORAI_AUTH_FAILURE_BURST")
    # Browser origins allowed to call the API (comma-separated); empty = none.
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="FLORAI_CORS_ORIGINS")

    # Kept images (consent): how long they are kept, and how often the sweep deletes those past it and
    # those of users who withdrew store_images (a withdrawal also starts a sweep at once).
    image_retention_days: int = Field(365, ge=1, le=3650, validation_alias="FLORAI_IMAGE_RETENTION_DAYS")
    image_sweep_interval_s: float = Field(60.0, gt=0, validation_alias="FLORAI_IMAGE_SWEEP_INTERVAL_S")

    # Inference.
    max_batch_size: int = Field(16, ge=1, le=256, validation_alias="FLORAI_MAX_BATCH_SIZE")
    max_queue: int = Field(256, ge=1, validation_alias="FLORAI_MAX_QUEUE")
    decode_threads: int | None = Field(None, ge=1, le=64, validation_alias="FLORAI_DECODE_THREADS")
    # "process": each model's forward runs in a child process with its own GIL (the server's
    # Python work cannot stall it); "thread": in the server process (one process in all).
    inference_worker: Literal["process", "thread"] = Field(
        "process", validation_alias="FLORAI_INFERENCE_WORKER"
    )
    # Worker processes per model (process mode); unset = one per CPU of the model's share of the
    # CPU budget on CPU (florai.inference.runtime.default_processes), one on a GPU.
    inference_processes: int | None = Field(None, ge=1, le=64, validation_alias="FLORAI_INFERENCE_PROCESSES")
    drain_timeout_s: float = Field(20.0, gt=0, validation_alias="FLORAI_DRAIN_TIMEOUT_S")
    # After SIGTERM: seconds to keep accepting connections (not ready) while the load balancer and
    # the Service's endpoints stop sending new ones, before the drain (Ctrl-C does not wait).
    drain_delay_s: float = Field(5.0, ge=0, validation_alias="FLORAI_DRAIN_DELAY_S")
    queue_full_retry_after_s: int = Field(1, ge=1, validation_alias="FLORAI_QUEUE_FULL_RETRY_AFTER_S")
    cache_size: int = Field(4096, ge=1, validation_alias="FLORAI_CACHE_SIZE")
    cache_ttl_s: int = Field(3600, ge=1, validation_alias="FLORAI_CACHE_TTL_S")

    # Per-key rate limit (token bucket): sustained rate and burst.
    rate_limit_per_s: float = Field(20.0, gt=0, validation_alias="FLORAI_RATE_LIMIT_PER_S")
    rate_limit_burst: int = Field(40, ge=1, validation_alias="FLORAI_RATE_LIMIT_BURST")

    # Process.
    host: str = Field("127.0.0.1", validation_alias="HOST")
    port: int = Field(contract.HTTP_PORT, ge=1, le=65535, validation_alias="PORT")
    log_level: str = Field("INFO", validation_alias="FLORAI_LOG_LEVEL")

    @field_validator("services", mode="before")
    @classmethod
    def _split_services(cls, value: object) -> object:
        if isinstance(value, str):
            names = tuple(n.strip() for n in value.split(",") if n.strip())
            return names or contract.SERVICE_NAMES
        return value

    @field_validator("services")
    @classmethod
    def _known_services(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(contract.SERVICE_NAMES))
        if unknown:
            raise ValueError(f"unknown service(s) {unknown}; choose from {list(contract.SERVICE_NAMES)}")
        return tuple(n for n in contract.SERVICE_NAMES if n in value)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:// or postgresql:// SQLAlchemy URL")
        if value:
            from sqlalchemy.engine import make_url

            _parses(value, lambda url: make_url(url).port)  # the port is parsed on access
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        if value:
            from redis.connection import parse_url

            _parses(value, parse_url)
        return value or None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())
        return value

    @field_validator("cors_origins")
    @classmethod
    def _valid_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [o for o in value if not _ORIGIN.match(o)]
        if bad:
            raise ValueError(f"not origins (scheme://host[:port]): {bad}")
        return value

    @field_validator("jwt_jwks_url")
    @classmethod
    def _jwks_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an https:// URL")
        return value or None

    # Derived values: the embedded defaults live here, in one place.
    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / DATABASE_FILE).resolve()}"

    @property
    def effective_image_store_uri(self) -> str:
        return self.image_store_uri or str((self.data_dir / IMAGES_FOLDER).resolve())

    @property
    def effective_decode_threads(self) -> int:
        """Decode threads in thread mode: FLORAI_DECODE_THREADS, else the container's CPU limit."""
        return self.decode_threads or available_cpus()

    @property
    def pepper_file(self) -> Path:
        return self.data_dir / PEPPER_FILE

    @property
    def tasks(self) -> tuple[str, ...]:
        """Inference tasks served by the enabled services, in contract order."""
        enabled = {t for s in contract.SERVICES if s.name in self.services for t in s.tasks}
        return tuple(t for t in contract.TASKS if t in enabled)

    @property
    def consent_enabled(self) -> bool:
        return "consent" in self.services

    def model_uri(self, task: str) -> str:
        """Where the model for ``task`` loads from: its explicit URI, else ``<models_dir>/<task>``."""
        explicit = getattr(self, "model_" + task.replace("-", "_"))
        if explicit:
            return explicit
        if self.models_dir.startswith("s3://"):
            return f"{self.models_dir.rstrip('/')}/{task}"
        return str(Path(self.models_dir) / task)


def _env_name(field_name: str) -> str:
    field = Settings.model_fields.get(field_name)
    alias = field.validation_alias if field else None
    return alias if isinstance(alias, str) else field_name


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment; raise SettingsError naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = err.get("loc") or ("settings",)
            name = _env_name(str(loc[0]))
            value = os.environ.get(name)
            shown = (
                f" (got {mask_credentials(value)!r})"
                if value is not None and "KEY" not in name and "SECRET" not in name
                else ""
            )
            problems.append(f"{name}: {err['msg']}{shown}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
