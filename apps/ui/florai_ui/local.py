"""``python -m florai_ui.local`` (``make ui``): the API on its embedded defaults and the UI beside it.

The API (``python -m florai``: SQLite and the reference models under .data) listens on
127.0.0.1:8000, the UI on 127.0.0.1:8501; both URLs are printed once each port accepts
connections. A development key is made for this run and handed to both processes through
their environment: it never reaches the browser. Ctrl-C stops both.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import signal
import sys
import time
from pathlib import Path

from florai import contract as api_contract
from florai_testkit.live_stack import ApiProcess
from florai_testkit.observability_servers import http_ok
from florai_testkit.servers import LOOPBACK, ManagedProcess, port_open
from florai_ui import contract
from florai_ui.server import streamlit_argv, streamlit_env

UI_START_TIMEOUT_S = 60.0


class UiProcess:
    """Streamlit for ``api_url`` with ``api_key`` on loopback ``port``, its metrics on ``metrics_port``."""

    def __init__(self, api_url: str, api_key: str, log_path: Path, port: int, metrics_port: int) -> None:
        self.port = port
        self.metrics_port = metrics_port
        env = streamlit_env()
        env |= {
            "FLORAI_UI_API_URL": api_url,
            "FLORAI_UI_API_KEY": api_key,
            "FLORAI_UI_METRICS_PORT": str(metrics_port),
            "FLORAI_UI_METRICS_ADDR": LOOPBACK,
            "HOME": str(log_path.parent),  # Streamlit's own ~/.streamlit files stay out of the user's home
        }
        for name in [n for n in env if n.startswith("FLORAI_UI_OIDC_")]:
            env.pop(name)
        self.process = ManagedProcess(
            "florai-ui",
            streamlit_argv(port, LOOPBACK),
            log_path,
            lambda: http_ok(self.url + contract.HEALTH_PATH),
            env=env,
            start_timeout=UI_START_TIMEOUT_S,
        )

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"http://{LOOPBACK}:{self.metrics_port}/metrics"

    def start(self) -> None:
        self.process.start()

    def stop(self) -> None:
        self.process.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m florai_ui.local", description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=Path, default=Path(".data/models"), help="models (make models)")
    parser.add_argument("--data", type=Path, default=Path(".data"), help="the API's data (SQLite, images)")
    parser.add_argument("--api-port", type=int, default=api_contract.HTTP_PORT)
    parser.add_argument("--ui-port", type=int, default=contract.UI_PORT)
    parser.add_argument("--metrics-port", type=int, default=contract.METRICS_PORT)
    args = parser.parse_args(argv)
    if not args.models.is_dir():
        print(f"florai_ui.local: no models at {args.models}: run `make models`", file=sys.stderr)
        return 2
    busy = [p for p in (args.api_port, args.ui_port, args.metrics_port) if port_open(p)]
    if busy:
        print(f"florai_ui.local: port(s) {busy} on {LOOPBACK} already in use", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    key = secrets.token_urlsafe(24)
    data = args.data.resolve()
    api = ApiProcess(args.models.resolve(), data, key, port=args.api_port)
    ui = UiProcess(api.url, key, data / "ui.log", args.ui_port, args.metrics_port)
    try:
        print(f"starting the API on {api.url} (models {args.models}; log {data / 'api.log'})", flush=True)
        api.start()
        print(f"  api  {api.url}{api_contract.API_PREFIX}  (OpenAPI {api.url}/docs)", flush=True)
        ui.start()
        print(f"  ui   {ui.url}  (metrics {ui.metrics_url}; log {data / 'ui.log'})", flush=True)
        print("Ctrl-C stops both.", flush=True)
        while api.process.running and ui.process.running:
            time.sleep(0.5)
        print("florai_ui.local: a process exited; stopping the other (see the logs above)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for stop in (ui.stop, api.stop):
            with contextlib.suppress(Exception):
                stop()


if __name__ == "__main__":
    sys.exit(main())
