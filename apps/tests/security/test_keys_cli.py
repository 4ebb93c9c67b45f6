"""``python -m florai.keys`` against real PostgreSQL: a created key is one the service accepts (stored
only as a hash), list never shows a secret, a revoked key is refused; mistakes are one line."""

from __future__ import annotations

import os
import subprocess
import sys

from fastapi.testclient import TestClient

from florai import contract
from florai.api import create_app
from florai.settings import Settings
from florai.storage import Database

PEPPER = "keys-cli-test-pepper-0123456789abcdef"


def keys(*args: str, database_url: str, tmp_path) -> subprocess.CompletedProcess:  # noqa: ANN001
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLORAI_") and k != "DATABASE_URL"}
    env |= {"DATABASE_URL": database_url, "FLORAI_API_KEY_PEPPER": PEPPER, "FLORAI_DATA_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "florai.keys", *args], env=env, capture_output=True, text=True, timeout=120
    )


def field(output: str, name: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in output.splitlines() if line.startswith(name + ":"))


def test_create_list_revoke_against_the_configured_database(postgres_url, tmp_path):
    created = keys(
        "create", "--user", "partner-7", "--name", "ci pipeline", database_url=postgres_url, tmp_path=tmp_path
    )
    assert created.returncode == 0, created.stderr
    key_id, plaintext = field(created.stdout, "key id"), field(created.stdout, "api key")
    assert plaintext.startswith("flk_") and "shown only now" in created.stderr

    database = Database(postgres_url)
    try:
        with database.engine.connect() as connection:
            stored = connection.exec_driver_sql("SELECT key_hash, prefix FROM api_keys").all()
        assert len(stored) == 1 and plaintext not in {stored[0][0], stored[0][1]}  # a hash and a prefix
    finally:
        database.dispose()

    listed = keys("list", database_url=postgres_url, tmp_path=tmp_path)
    assert listed.returncode == 0 and key_id in listed.stdout and "partner-7" in listed.stdout
    assert "ci pipeline" in listed.stdout and plaintext not in listed.stdout

    settings = Settings(
        database_url=postgres_url, data_dir=tmp_path, api_key_pepper=PEPPER, services=("consent",)
    )
    headers = {contract.API_KEY_HEADER: plaintext}
    with TestClient(create_app(settings)) as client:
        assert client.get(f"{contract.API_PREFIX}/consent", headers=headers).json()["user_id"] == "partner-7"
    revoked = keys("revoke", key_id, database_url=postgres_url, tmp_path=tmp_path)
    assert revoked.returncode == 0 and f"revoked {key_id}" in revoked.stdout
    with TestClient(create_app(settings)) as client:  # a new process: no key cached
        assert client.get(f"{contract.API_PREFIX}/consent", headers=headers).status_code == 401
    again = keys("revoke", key_id, database_url=postgres_url, tmp_path=tmp_path)
    assert again.returncode == 1 and again.stderr.strip() == f"florai.keys: no live key with id {key_id!r}"


def test_mistakes_are_one_line(postgres_url, tmp_path):
    reserved = keys("create", "--user", "jwt:alice", database_url=postgres_url, tmp_path=tmp_path)
    assert (
        reserved.returncode == 2 and reserved.stderr.count("\n") == 1 and "token subjects" in reserved.stderr
    )
    unreachable = "postgresql://florai:keys-secret@127.0.0.1:1/florai"
    down = keys("list", database_url=unreachable, tmp_path=tmp_path)
    assert down.returncode == 2 and down.stderr.count("\n") == 1
    assert "unreachable" in down.stderr and "keys-secret" not in down.stderr
