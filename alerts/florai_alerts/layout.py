"""Where the alert sources live and where the generated, committed output goes."""

from __future__ import annotations

from pathlib import Path

ALERTS_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = ALERTS_DIR.parent

SLO_DIR = ALERTS_DIR / "slos"
RULES_DIR = ALERTS_DIR / "rules"  # hand-written sources (no runbook_url)
PROMTOOL_TESTS_DIR = ALERTS_DIR / "tests"
GENERATED_DIR = ALERTS_DIR / "generated"
PLAIN_RULES_DIR = GENERATED_DIR / "rules"  # `groups:` files for promtool and a plain Prometheus
PROMETHEUS_RULES_DIR = GENERATED_DIR / "prometheusrules"  # monitoring.coreos.com/v1 objects
KUSTOMIZATION = ALERTS_DIR / "kustomization.yaml"
RUNBOOKS_DIR = REPO_ROOT / "runbooks"
EXTERNAL_METRICS = ALERTS_DIR / "external-metrics.yaml"
