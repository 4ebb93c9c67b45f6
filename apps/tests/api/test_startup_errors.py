"""``python -m florai`` refuses what a user must fix with one line naming it, before any slow work
(nothing is logged, no model loads), and never shows a password."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from florai_testkit.servers import LOOPBACK, free_port

PASSWORD = "pa55-w0rd-never-shown"
START_TIMEOUT_S = 60


def serve(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLORAI_", "OTEL_")) and k not in ("DATABASE_URL", "REDIS_URL", "PORT", "HOST")
    }
    return subprocess.run(
        [sys.executable, "-m", "florai"],
        env={**clean, "FLORAI_DATA_DIR": str(tmp_path), "PORT": str(free_port()), **env},
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )


def one_line(result: subprocess.CompletedProcess) -> str:
    """The refusal: exit status 2, nothing on stdout (no log line: nothing started), one line on stderr."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert PASSWORD not in result.stderr
    return lines[0]


def test_unreachable_database_url_names_the_variable(tmp_path, models_dir):
    port = free_port()  # nothing listens there
    url = f"postgresql://florai:{PASSWORD}@{LOOPBACK}:{port}/florai"
    line = one_line(serve({"DATABASE_URL": url, "FLORAI_MODELS_DIR": models_dir}, tmp_path))
    assert line.startswith(
        f"florai: DATABASE_URL postgresql://florai:***@{LOOPBACK}:{port}/florai is unreachable"
    )
    assert "Connection refused" in line and len(line) < 400


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        (
            "DATABASE_URL",
            f"postgresql://florai:{PASSWORD}@db:port/florai",
            "postgresql://florai:***@db:port/florai",
        ),
        ("REDIS_URL", f"redis://:{PASSWORD}@cache:port/0", "redis://:***@cache:port/0"),
        (
            "DATABASE_URL",
            f"postgresql://florai:{PASSWORD}@db@host/florai",
            "postgresql://florai:***@host/florai",
        ),
    ],
)
def test_malformed_urls_are_named_with_the_password_masked(tmp_path, models_dir, name, value, shown):
    line = one_line(serve({name: value, "FLORAI_MODELS_DIR": models_dir}, tmp_path))
    assert line.startswith("florai: ") and name in line and shown in line


def test_a_port_in_use_is_found_before_the_models_load(tmp_path, models_dir):
    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line(serve({"PORT": str(port), "FLORAI_MODELS_DIR": models_dir}, tmp_path))
    assert line == f"florai: port {port} on {LOOPBACK} is already in use: stop the other server or set PORT"


def test_a_missing_models_folder_says_to_run_make_models(tmp_path):
    missing = tmp_path / "no-models"
    line = one_line(serve({"FLORAI_MODELS_DIR": str(missing), "FLORAI_SERVICES": "identify"}, tmp_path))
    assert line == f"florai: no identify model at {missing / 'identify'}: run `make models`" + (
        " (or point FLORAI_MODELS_DIR at your models)"
    )
