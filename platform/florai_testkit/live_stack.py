"""`make up`: the API, Prometheus with the project's rules, Alertmanager and a webhook receiver.

Everything listens on loopback. Prometheus scrapes the one API process once (one scrape per
process, as in the cluster), with the target labels the ServiceMonitor attaches there
(``namespace``, ``service``, ``pod``...; see florai_alerts.labels). In the cluster each service is
its own pod; here one process serves every route, so each series gets the ``service`` label of the
service that owns it in the cluster: its route by the Ingress's path rules, its model by the model's
task. The SLO recording rules and the alerts then select what they select in production.
Ctrl-C stops every process.

    python -m florai_testkit.live_stack --models .data/models
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from florai import contract
from florai.models.manifest import MANIFEST_FILE
from florai_alerts.labels import APP_NAMESPACE, NAMESPACE_LABEL, SERVICE_LABEL, service_label_value
from florai_alerts.layout import PLAIN_RULES_DIR
from florai_gitops import ingress as ingress_rules
from florai_testkit.observability_servers import (
    AlertmanagerServer,
    PrometheusServer,
    ScrapeTarget,
    WebhookReceiver,
    http_ok,
    require_servers,
)
from florai_testkit.servers import LOOPBACK, ManagedProcess, ServerError, free_port

DEV_API_KEY = "live-stack-dev-key-0123456789"
REPO_ROOT = Path(__file__).resolve().parents[2]
# The cluster's path rules: which Service each API route reaches.
INGRESS = REPO_ROOT / "apps" / "deploy" / "base" / "ingress.yaml"
LOCAL_JOB = "florai-local"
API_START_TIMEOUT_S = 120.0
# Variables of the developer's shell that would point the API away from its embedded defaults.
_FOREIGN_ENV = ("DATABASE_URL", "REDIS_URL", "HOST", "PORT", "FLORAI_SERVICES", "OTEL_EXPORTER_OTLP_ENDPOINT")


def project_rule_files() -> list[Path]:
    """The plain rule files the ALERTS generator commits (alerts/generated/rules/*.yaml)."""
    files = sorted(PLAIN_RULES_DIR.glob("*.yaml"))
    if not files:
        raise FileNotFoundError(f"no rule files under {PLAIN_RULES_DIR}: run the florai_alerts generator")
    return files


def derive_rule_files(sources: Sequence[Path], out_dir: Path, for_overrides: Mapping[str, str]) -> list[Path]:
    """Copies of ``sources`` where each alert named in ``for_overrides`` gets that ``for:`` duration.

    Tests shorten one alert's ``for`` this way; every other rule stays exactly as committed.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    derived = []
    for source in sources:
        document = yaml.safe_load(source.read_text())
        for group in document.get("groups", []):
            for rule in group.get("rules", []):
                if rule.get("alert") in for_overrides:
                    rule["for"] = for_overrides[rule["alert"]]
                    seen.add(rule["alert"])
        target = out_dir / source.name
        target.write_text(yaml.safe_dump(document, sort_keys=False))
        derived.append(target)
    missing = sorted(set(for_overrides) - seen)
    if missing:
        raise KeyError(f"no alert named {missing} in {[str(s) for s in sources]}")
    return derived


def route_services(ingress: Path = INGRESS) -> list[tuple[str, str]]:
    """(path prefix, Service name) of the Ingress's path rules that hold whatever the query string
    (a batch goes by its task in the cluster; here its series count for the fallback, identify)."""
    return ingress_rules.unconditional_paths(yaml.safe_load(ingress.read_text()))


def model_services(models_dir: Path) -> list[tuple[str, str]]:
    """(model name, Service name) of each model folder: the service whose tasks include its task."""
    found = []
    for manifest in sorted(Path(models_dir).glob(f"*/{MANIFEST_FILE}")):
        model = json.loads(manifest.read_text())
        service = next(s for s in contract.SERVICES if model["task"] in s.tasks)
        found.append((model["name"], service_label_value(service.name)))
    return found


def service_relabels(models_dir: Path) -> list[dict[str, object]]:
    """metric_relabel_configs giving each series the ``service`` label of its route or model."""
    relabels: list[dict[str, object]] = []
    for prefix, service in route_services():
        relabels.append(
            {
                "source_labels": ["route"],
                "regex": re.escape(prefix) + "(/.*)?",
                "target_label": SERVICE_LABEL,
                "replacement": service,
            }
        )
    for model, service in model_services(models_dir):
        relabels.append(
            {
                "source_labels": ["model"],
                "regex": re.escape(model),
                "target_label": SERVICE_LABEL,
                "replacement": service,
            }
        )
    return relabels


def scrape_targets(api_port: int, models_dir: Path) -> list[ScrapeTarget]:
    """One job over the single local API process, labelled as a ServiceMonitor would label a pod."""
    labels = {
        NAMESPACE_LABEL: APP_NAMESPACE,
        SERVICE_LABEL: LOCAL_JOB,
        "pod": f"{LOCAL_JOB}-0",
        "container": "florai",
        "endpoint": "http",
    }
    return [
        ScrapeTarget(
            job=LOCAL_JOB,
            port=api_port,
            labels=labels,
            metrics_path=contract.METRICS_PATH,
            metric_relabels=service_relabels(models_dir),
        )
    ]


def web_ui(api: ApiProcess, folder: Path):
    """The web UI (apps/ui) for ``api`` on free loopback ports; imported here: the stack runs without it."""
    from florai_ui.local import UiProcess

    folder.mkdir(parents=True, exist_ok=True)
    return UiProcess(api.url, api.api_key, folder / "ui.log", free_port(), free_port())


def ui_scrape_target(metrics_port: int) -> ScrapeTarget:
    """The UI's metrics, labelled as its ServiceMonitor (apps/deploy/ui) labels the pods."""
    labels = {
        NAMESPACE_LABEL: APP_NAMESPACE,
        SERVICE_LABEL: "florai-ui",
        "pod": "florai-ui-local",
        "container": "florai-ui",
    }
    return ScrapeTarget(job="florai-ui", port=metrics_port, labels=labels)


class ApiProcess:
    """``python -m florai`` on its embedded defaults (SQLite in ``data_dir``) with a known dev key."""

    def __init__(
        self,
        models_dir: Path,
        data_dir: Path,
        api_key: str,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.api_key = api_key
        process_env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
        process_env |= {
            "HOST": LOOPBACK,
            "PORT": str(self.port),
            "FLORAI_DATA_DIR": str(data_dir),
            "FLORAI_MODELS_DIR": str(models_dir),
            "FLORAI_API_KEY": api_key,
        }
        process_env |= dict(env or {})  # e.g. FLORAI_SERVICES for a single service
        data_dir.mkdir(parents=True, exist_ok=True)
        # Ready = serving HTTP; /readyz stays 503 while a model failed to load, which tests inject.
        self.process = ManagedProcess(
            "florai-api",
            [sys.executable, "-m", "florai"],
            data_dir / "api.log",
            lambda: http_ok(self.url + contract.HEALTH_PATH),
            env=process_env,
            start_timeout=API_START_TIMEOUT_S,
        )

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        self.process.start()

    def stop(self) -> None:
        self.process.stop()


class LiveStack:
    """The four parts, started in dependency order and always stopped together (context manager)."""

    def __init__(
        self,
        models_dir: Path,
        *,
        interval_s: float = 5.0,
        rule_files: Sequence[Path] | None = None,
        for_overrides: Mapping[str, str] | None = None,
        api_key: str = DEV_API_KEY,
        base_dir: Path | None = None,
        ui: bool = False,
    ) -> None:
        require_servers()  # before anything is created: a missing package leaves nothing behind
        self.dir = Path(tempfile.mkdtemp(prefix="florai-live-", dir=base_dir))
        try:
            self.receiver = WebhookReceiver(self.dir / "alerts.jsonl")
            models_dir = Path(models_dir).resolve()
            self.api = ApiProcess(models_dir, self.dir / "data", api_key)
            self.ui = web_ui(self.api, self.dir / "ui") if ui else None
            self.alertmanager = AlertmanagerServer(self.receiver.url, base_dir=self.dir)
            rules = derive_rule_files(
                rule_files if rule_files is not None else project_rule_files(),
                self.dir / "rules",
                for_overrides or {},
            )
            targets = scrape_targets(self.api.port, models_dir)
            if self.ui is not None:
                targets.append(ui_scrape_target(self.ui.metrics_port))
            self.prometheus = PrometheusServer(
                targets,
                rules,
                alertmanager_port=self.alertmanager.port,
                interval_s=interval_s,
                base_dir=self.dir,
            )
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    @property
    def urls(self) -> dict[str, str]:
        ui = {"web ui": self.ui.url, "ui metrics": self.ui.metrics_url} if self.ui is not None else {}
        return {
            **ui,
            "api": self.api.url + contract.API_PREFIX,
            "metrics": self.api.url + contract.METRICS_PATH,
            "prometheus": self.prometheus.url,
            "alertmanager": self.alertmanager.url,
            "webhook": self.receiver.url,
            "alerts log": str(self.receiver.path),
        }

    @property
    def processes(self) -> list[ManagedProcess]:
        ui = [self.ui.process] if self.ui is not None else []
        return [self.api.process, *ui, self.alertmanager.process, self.prometheus.process]

    def start(self) -> LiveStack:
        try:
            self.receiver.start()
            self.alertmanager.start()
            self.api.start()
            if self.ui is not None:
                self.ui.start()
            self.prometheus.start()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop every process (scraper first) and the receiver, delete the temp dir; safe to call twice."""
        ui = [self.ui.stop] if self.ui is not None else []
        for stop in (self.prometheus.close, *ui, self.api.stop, self.alertmanager.close, self.receiver.stop):
            with contextlib.suppress(Exception):
                stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> LiveStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m florai_testkit.live_stack", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--models", type=Path, required=True, help="folder of the reference models (make models)"
    )
    parser.add_argument(
        "--interval", type=float, default=5.0, help="scrape and rule evaluation interval, seconds"
    )
    parser.add_argument("--no-ui", action="store_true", help="leave out the web UI")
    args = parser.parse_args(argv)
    if not args.models.is_dir():
        print(f"live_stack: no models at {args.models}: run `make models`", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        stack = LiveStack(args.models, interval_s=args.interval, ui=not args.no_ui)
    except ServerError as err:
        print(f"live_stack: {err}", file=sys.stderr)
        return 2
    try:
        stack.start()
        width = max(map(len, stack.urls))
        for name, url in stack.urls.items():
            print(f"  {name:<{width}}  {url}")
        print(f"  {'api key':<{width}}  {stack.api.api_key} (header {contract.API_KEY_HEADER})")
        print("Ctrl-C stops everything.", flush=True)
        while all(p.running for p in stack.processes):
            time.sleep(0.5)
        print("live_stack: a process exited; stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stack.close()


if __name__ == "__main__":
    sys.exit(main())
