"""`python -m florai` as a real process: ready on a loopback port, serves, drains on SIGTERM, exits 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx

from florai import contract
from florai_testkit.servers import free_port

DEV_KEY = "process-test-dev-key-0123456789"
START_TIMEOUT_S = 90


def test_serve_ready_identify_and_clean_sigterm(tmp_path, fault_models_dir, png):
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "FLORAI_DATA_DIR": str(tmp_path),
        "FLORAI_MODELS_DIR": fault_models_dir,
        "FLORAI_API_KEY": DEV_KEY,
        "FLORAI_SERVICES": "identify",
    }
    for name in ("DATABASE_URL", "REDIS_URL", "HOST", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_EXPORTER"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "florai"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        ready = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(base + contract.READY_PATH, timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        assert ready is not None and ready.status_code == 200, proc.poll()
        r = httpx.post(
            f"{base}{contract.API_PREFIX}/identify",
            files={"file": ("a.png", png((10, 120, 40)), "image/png")},
            headers={contract.API_KEY_HEADER: DEV_KEY},
            timeout=30,
        )
        assert r.status_code == 200 and len(r.json()["predictions"]) == 5
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output
    logs = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    messages = [entry["message"] for entry in logs]
    assert "draining" in messages and "stopped" in messages
    assert all({"ts", "level", "logger", "trace_id", "request_id"} <= set(entry) for entry in logs)
    assert any(entry["logger"] == "uvicorn.access" for entry in logs)
