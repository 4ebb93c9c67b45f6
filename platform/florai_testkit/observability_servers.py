"""Prometheus, Alertmanager and a webhook receiver on loopback, for `make up` and the live tests.

Prometheus and Alertmanager are the Debian binaries (packages ``prometheus`` and
``prometheus-alertmanager``), each a ``ManagedProcess`` in its own temp dir with a config
written here. The webhook receiver is a small HTTP server in this process that appends every
alert Alertmanager posts to a JSONL file, one alert per line.
"""

from __future__ import annotations

import json
import shutil
import threading
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from florai_alerts.alertmanager import local_config
from florai_testkit.servers import LOOPBACK, ManagedProcess, ProcessServer, ServerError

PROMETHEUS_BIN = "/usr/bin/prometheus"
ALERTMANAGER_BIN = "/usr/bin/prometheus-alertmanager"
WEBHOOK_PATH = "/alerts"


def http_ok(url: str, timeout: float = 0.5) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def _binary(path: str, package: str) -> str:
    found = shutil.which(Path(path).name) or (path if Path(path).exists() else None)
    if found is None:
        raise ServerError(f"{path} not found: apt-get update && apt-get install -y {package}")
    return found


def require_servers() -> None:
    """Raise ServerError naming the package to install if Prometheus or Alertmanager is missing."""
    _binary(PROMETHEUS_BIN, "prometheus")
    _binary(ALERTMANAGER_BIN, "prometheus-alertmanager")


@dataclass(frozen=True)
class ScrapeTarget:
    """One scrape job: a loopback port and the target labels a ServiceMonitor would attach."""

    job: str
    port: int
    labels: Mapping[str, str] = field(default_factory=dict)
    metrics_path: str = "/metrics"
    # Prometheus metric_relabel_configs applied to the scraped series.
    metric_relabels: Sequence[Mapping[str, object]] = ()


class HttpProcessServer(ProcessServer):
    """A ProcessServer with an HTTP API on its loopback port."""

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"


class PrometheusServer(HttpProcessServer):
    """Prometheus scraping ``targets``, evaluating ``rule_files``, alerting to ``alertmanager_port``."""

    name = "prometheus"

    def __init__(
        self,
        targets: Sequence[ScrapeTarget],
        rule_files: Sequence[Path] = (),
        *,
        alertmanager_port: int | None = None,
        interval_s: float = 5.0,
        port: int | None = None,
        base_dir: Path | None = None,
    ) -> None:
        super().__init__(port, base_dir)
        interval = f"{interval_s:g}s"
        config: dict = {
            "global": {
                "scrape_interval": interval,
                "evaluation_interval": interval,
                "scrape_timeout": interval,
            },
            "rule_files": [str(p) for p in rule_files],
            "scrape_configs": [
                {
                    "job_name": t.job,
                    "metrics_path": t.metrics_path,
                    "static_configs": [{"targets": [f"{LOOPBACK}:{t.port}"], "labels": dict(t.labels)}],
                    **(
                        {"metric_relabel_configs": [dict(r) for r in t.metric_relabels]}
                        if t.metric_relabels
                        else {}
                    ),
                }
                for t in targets
            ],
        }
        if alertmanager_port:
            config["alerting"] = {
                "alertmanagers": [{"static_configs": [{"targets": [f"{LOOPBACK}:{alertmanager_port}"]}]}]
            }
        self.config_path = self.dir / "prometheus.yml"
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=True))
        argv = [
            _binary(PROMETHEUS_BIN, "prometheus"),
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.dir / 'data'}",
            f"--web.listen-address={LOOPBACK}:{self.port}",
            # Alerts reach Alertmanager as soon as they fire, then every interval (not every minute).
            f"--rules.alert.resend-delay={interval}",
            "--log.level=warn",
        ]
        self.process = ManagedProcess(
            "prometheus",
            argv,
            self.dir / "prometheus.log",
            lambda: http_ok(f"{self.url}/-/ready"),
            cwd=self.dir,
        )


class AlertmanagerServer(HttpProcessServer):
    """Alertmanager (no clustering) with the project's routing tree, every receiver posting to one
    webhook URL (florai_alerts.alertmanager.local_config), so alerts reach the receiver the cluster's
    Alertmanager would pick, grouped and inhibited the same way."""

    name = "alertmanager"

    def __init__(self, webhook_url: str, *, port: int | None = None, base_dir: Path | None = None) -> None:
        super().__init__(port, base_dir)
        config = local_config(webhook_url)
        self.config_path = self.dir / "alertmanager.yml"
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=True))
        argv = [
            _binary(ALERTMANAGER_BIN, "prometheus-alertmanager"),
            f"--config.file={self.config_path}",
            f"--storage.path={self.dir / 'data'}",
            f"--web.listen-address={LOOPBACK}:{self.port}",
            "--cluster.listen-address=",  # a single local instance: no gossip port
            "--log.level=warn",
        ]
        self.process = ManagedProcess(
            "alertmanager",
            argv,
            self.dir / "alertmanager.log",
            lambda: http_ok(f"{self.url}/-/ready"),
            cwd=self.dir,
        )


class WebhookReceiver:
    """Alertmanager webhook receiver in this process: each posted alert becomes one JSONL line."""

    def __init__(self, path: Path, port: int = 0) -> None:
        self.path = path
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's method name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    payload = json.loads(body)
                except ValueError:
                    self.send_response(400)
                    self.end_headers()
                    return
                receiver.record(payload)
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return  # quiet: the JSONL file is the record

        self._server = ThreadingHTTPServer((LOOPBACK, port), Handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}{WEBHOOK_PATH}"

    def record(self, payload: dict) -> None:
        lines = [
            json.dumps({"receiver": payload.get("receiver"), **alert}, sort_keys=True)
            for alert in payload.get("alerts", [])
        ]
        with self._lock, self.path.open("a") as out:
            out.writelines(line + "\n" for line in lines)

    def alerts(self) -> list[dict]:
        """Every alert received so far, oldest first."""
        with self._lock:
            if not self.path.exists():
                return []
            return [json.loads(line) for line in self.path.read_text().splitlines() if line]

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-receiver", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()
