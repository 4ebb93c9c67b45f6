"""Alertmanager configurations from the one routing tree (alerts/alertmanager/routing.yaml).

- the cluster's: receivers PagerDuty (``pager``) and Slack (``chat``), their credentials read from
  files of the Secret ``alertmanager-receivers`` (an ExternalSecret, alerts/alertmanager-receivers.yaml)
  that kube-prometheus-stack mounts into Alertmanager; delivered as the Secret ``alertmanager-florai``;
- `make up`'s: the same tree with every receiver a webhook to one local URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from florai_alerts.layout import ALERTS_DIR, GENERATED_DIR

ROUTING = ALERTS_DIR / "alertmanager" / "routing.yaml"
CLUSTER_CONFIG = GENERATED_DIR / "alertmanager" / "alertmanager.yaml"
CONFIG_SECRET = "alertmanager-florai"
RECEIVERS_SECRET = "alertmanager-receivers"
# Where the operator mounts alertmanagerSpec.secrets entries.
SECRETS_MOUNT = f"/etc/alertmanager/secrets/{RECEIVERS_SECRET}"
PAGERDUTY_KEY = "pagerduty-routing-key"
SLACK_URL = "slack-webhook-url"
SLACK_CHANNEL = "#florai-alerts"
PAGER, CHAT, NULL = "pager", "chat", "null"

_TITLE = "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.service }})"
_TEXT = (
    "{{ range .Alerts }}{{ .Annotations.summary }}\n"
    "runbook: {{ .Annotations.runbook_url }}\ndashboard: {{ .Annotations.dashboard_url }}\n{{ end }}"
)


def routing() -> dict[str, Any]:
    return yaml.safe_load(ROUTING.read_text())


def receiver_names(route: dict[str, Any]) -> set[str]:
    return {route["receiver"]} | {n for child in route.get("routes", []) for n in receiver_names(child)}


def cluster_config() -> dict[str, Any]:
    tree = routing()
    return {
        **tree,
        "receivers": [
            {
                "name": PAGER,
                "pagerduty_configs": [
                    {
                        "routing_key_file": f"{SECRETS_MOUNT}/{PAGERDUTY_KEY}",
                        "send_resolved": True,
                        "description": _TITLE,
                        "links": [
                            {"href": "{{ (index .Alerts 0).Annotations.runbook_url }}", "text": "runbook"},
                            {
                                "href": "{{ (index .Alerts 0).Annotations.dashboard_url }}",
                                "text": "dashboard",
                            },
                        ],
                    }
                ],
            },
            {
                "name": CHAT,
                "slack_configs": [
                    {
                        "api_url_file": f"{SECRETS_MOUNT}/{SLACK_URL}",
                        "channel": SLACK_CHANNEL,
                        "send_resolved": True,
                        "title": _TITLE,
                        "text": _TEXT,
                    }
                ],
            },
            {"name": NULL},
        ],
    }


def local_config(webhook_url: str, *, fast: bool = True) -> dict[str, Any]:
    """The same tree, every receiver posting to ``webhook_url``; ``fast`` shortens the waits for a demo."""
    tree = routing()
    if fast:
        for route in _routes(tree["route"]):
            for key in ("group_wait", "group_interval"):
                if key in route:
                    route[key] = "1s"
    names = receiver_names(tree["route"])
    return {
        **tree,
        "receivers": [
            {"name": n, "webhook_configs": [{"url": webhook_url, "send_resolved": True}]}
            for n in sorted(names)
        ],
    }


def _routes(route: dict[str, Any]):
    yield route
    for child in route.get("routes", []):
        yield from _routes(child)


def write(path: Path, config: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
