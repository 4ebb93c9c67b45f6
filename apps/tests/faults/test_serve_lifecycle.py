"""``python -m florai`` as a real process (the consent service: no model to load): it announces its URLs
and a generated key only once the port accepts; at SIGTERM it keeps accepting and serving (not ready)
before it drains; request heads are bounded; the access log never holds a query string."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from florai import contract
from florai_testkit.servers import LOOPBACK, free_port

START_TIMEOUT_S = 60
DRAIN_DELAY_S = 3


@contextmanager
def consent_server(tmp_path: Path, **env: str) -> Iterator[tuple[subprocess.Popen, int, list[str]]]:
    """The process, its port, and its stdout lines as they come (read by a thread)."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FLORAI_", "OTEL_"))}
    for name in ("DATABASE_URL", "REDIS_URL", "HOST", "PORT"):
        clean.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "florai"],
        env={
            **clean,
            "PORT": str(port),
            "FLORAI_DATA_DIR": str(tmp_path),
            "FLORAI_SERVICES": "consent",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        yield proc, port, lines
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        reader.join(10)


def wait_for_line(proc: subprocess.Popen, lines: list[str], prefix: str) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        found = next((line for line in list(lines) if line.startswith(prefix)), None)
        if found is not None:
            return found.rstrip("\n")
        time.sleep(0.05)
    raise AssertionError(f"no line starting {prefix!r}: {''.join(lines)[-3000:]}")


def wait_http(proc: subprocess.Popen, port: int) -> str:
    """The base URL once /healthz answers."""
    base = f"http://{LOOPBACK}:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(base + contract.HEALTH_PATH, timeout=2).status_code == 200:
                return base
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"the server did not answer (exit status {proc.poll()})")


def test_urls_and_the_generated_key_are_printed_once_the_port_accepts(tmp_path):
    with consent_server(tmp_path) as (proc, port, lines):
        served = wait_for_line(proc, lines, "florai: serving ")
        # Printed after the listener opened: a client that reads the line connects at once.
        key_line = wait_for_line(proc, lines, "FLORAI_API_KEY=")
        key = key_line.removeprefix("FLORAI_API_KEY=").removesuffix(" (development key)")
        base = f"http://{LOOPBACK}:{port}"
        answer = httpx.get(f"{base}{contract.API_PREFIX}/consent", headers={contract.API_KEY_HEADER: key})
        assert answer.status_code == 200 and answer.json()["user_id"] == "dev"
        assert (
            served
            == f"florai: serving {base}{contract.API_PREFIX} (API docs: {base}/docs; services: consent)"
        )
        assert (
            lines.index(next(x for x in lines if x.startswith("florai: serving"))) > 0
        )  # after start-up logs
        assert httpx.get(f"{base}/docs").status_code == 200


def test_sigterm_keeps_accepting_new_connections_then_drains(tmp_path):
    key = "drain-test-dev-key-0123456789"
    env = {"FLORAI_API_KEY": key, "FLORAI_DRAIN_DELAY_S": str(DRAIN_DELAY_S)}
    with consent_server(tmp_path, **env) as (proc, port, lines):
        base = wait_http(proc, port)
        headers = {contract.API_KEY_HEADER: key}
        assert httpx.get(base + contract.READY_PATH).status_code == 200
        proc.send_signal(signal.SIGTERM)
        statuses, readiness = [], []
        # New connections (a fresh client each time) during the first part of the delay: every one
        # is accepted and served, while /readyz says the instance is going away.
        stop_at = time.monotonic() + DRAIN_DELAY_S / 2
        while time.monotonic() < stop_at:
            with httpx.Client(base_url=base, timeout=5) as fresh:
                statuses.append(fresh.get(f"{contract.API_PREFIX}/consent", headers=headers).status_code)
                readiness.append(fresh.get(contract.READY_PATH).json()["checks"].get("server"))
        assert len(statuses) >= 3 and set(statuses) == {200}
        assert set(readiness) == {"draining"}
        assert proc.wait(60) == 0
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    messages = [entry["message"] for entry in logged]
    assert messages.index("SIGTERM: not ready, still serving") < messages.index("draining")
    assert "stopped" in messages


def test_request_heads_over_the_limit_get_431_and_the_server_serves_on(tmp_path):
    key = "header-test-dev-key-0123456789"
    with consent_server(tmp_path, FLORAI_API_KEY=key) as (proc, port, lines):
        base = wait_http(proc, port)
        with socket.create_connection((LOOPBACK, port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            filler = b"X-Filler: " + b"a" * 1000 + b"\r\n"
            sent = 0
            try:
                while sent < 4 * contract.MAX_HEADER_BYTES:  # the server closes before we finish
                    sock.sendall(filler)
                    sent += len(filler)
            except (BrokenPipeError, ConnectionResetError):
                pass
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 431 ")
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["code"] == "headers_too_large"
        big_but_allowed = {"X-Note": "b" * (contract.MAX_HEADER_BYTES // 2), contract.API_KEY_HEADER: key}
        assert httpx.get(f"{base}{contract.API_PREFIX}/consent", headers=big_but_allowed).status_code == 200
        # Bodies are not heads: a body far over the head limit reaches the app, request after request.
        with httpx.Client(base_url=base) as keep_alive:
            for _ in range(3):
                body = {"store_images": True, "padding": "p" * (4 * contract.MAX_HEADER_BYTES)}
                answer = keep_alive.put(
                    f"{contract.API_PREFIX}/consent", json=body, headers={contract.API_KEY_HEADER: key}
                )
                assert answer.status_code == 422 and "padding" in answer.text


def test_the_access_log_holds_paths_without_query_strings(tmp_path):
    key = "access-log-dev-key-0123456789"
    with consent_server(tmp_path, FLORAI_API_KEY=key) as (proc, port, lines):
        url = f"{wait_http(proc, port)}{contract.API_PREFIX}/consent?access_token=query-secret-42"
        assert httpx.get(url, headers={contract.API_KEY_HEADER: key}).status_code == 200
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    access = [json.loads(x) for x in lines if x.startswith("{") and '"uvicorn.access"' in x]
    assert any(f"GET {contract.API_PREFIX}/consent HTTP/1.1" in entry["message"] for entry in access)
    assert not any("query-secret-42" in line for line in lines)
