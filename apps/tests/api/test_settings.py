"""Settings from the environment: embedded defaults, overrides, errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from florai import contract
from florai.settings import Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith(("FLORAI_", "DATABASE_URL", "REDIS_URL")) or name in ("PORT", "HOST"):
            monkeypatch.delenv(name)


def test_defaults_are_the_embedded_mode():
    s = load_settings()
    assert s.services == contract.SERVICE_NAMES and s.tasks == contract.TASKS
    assert s.effective_database_url == f"sqlite:///{Path('.data/florai.db').resolve()}"
    assert s.effective_image_store_uri == str(Path(".data/images").resolve())
    assert s.redis_url is None and s.api_key is None
    assert (s.host, s.port) == ("127.0.0.1", contract.HTTP_PORT)
    assert s.model_uri(contract.TASK_GROWTH_STAGE) == str(Path(".data/models") / "growth-stage")


def test_env_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("FLORAI_SERVICES", "consent, diagnose")
    monkeypatch.setenv("FLORAI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FLORAI_MODELS_DIR", "s3://bucket/models/")
    monkeypatch.setenv("FLORAI_MODEL_IDENTIFY", "/opt/identify")
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    s = load_settings()
    assert s.services == ("diagnose", "consent")  # contract order
    assert s.tasks == (contract.TASK_DIAGNOSE,) and s.consent_enabled
    assert s.effective_database_url == f"sqlite:///{tmp_path / 'florai.db'}"
    assert s.model_uri(contract.TASK_DIAGNOSE) == "s3://bucket/models/diagnose"
    assert s.model_uri(contract.TASK_IDENTIFY) == "/opt/identify"
    assert s.port == 9001 and s.redis_url == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "FLORAI_SERVICES",
            "identify,weather",
            "FLORAI_SERVICES: Value error, unknown service(s) ['weather']",
        ),
        ("FLORAI_MAX_QUEUE", "0", "FLORAI_MAX_QUEUE: Input should be greater than or equal to 1"),
        ("PORT", "http", "PORT: Input should be a valid integer"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL: Value error, must be a sqlite:// or postgresql://"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL: Value error, must be a redis://"),
        ("FLORAI_LOG_LEVEL", "LOUD", "FLORAI_LOG_LEVEL: Value error, unknown log level"),
    ],
)
def test_invalid_values_name_the_variable(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert message in str(err.value)


def test_secrets_are_not_echoed(monkeypatch):
    monkeypatch.setenv("FLORAI_API_KEY", "a-secret-dev-key")
    s = load_settings()
    assert s.api_key.get_secret_value() == "a-secret-dev-key"
    assert "a-secret-dev-key" not in repr(s)


def test_overrides_by_field_name(tmp_path):
    s = Settings(data_dir=tmp_path, services=("identify",), max_queue=2)
    assert s.tasks == (contract.TASK_IDENTIFY,) and not s.consent_enabled and s.max_queue == 2
