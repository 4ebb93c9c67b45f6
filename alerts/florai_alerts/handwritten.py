"""Hand-written symptom and cause alerts (alerts/rules/*.yaml), checked before generation."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from florai_alerts.labels import SEVERITIES
from florai_alerts.layout import RULES_DIR

ALERT_NAME = re.compile(r"^Florai[A-Z][A-Za-z0-9]*$")
REQUIRED_ANNOTATIONS = ("summary", "description")


class RuleSourceError(ValueError):
    """A hand-written rule that breaks the conventions every alert must follow."""


def alert_problems(source: str, rule: dict) -> list[str]:
    """Conventions for every alert, hand-written or generated (runbook_url is checked after it is added)."""
    name = rule.get("alert", "")
    problems = []
    if not ALERT_NAME.match(name):
        problems.append(f"{source}: alert {name!r} must be PascalCase with the Florai prefix")
    if rule.get("labels", {}).get("severity") not in SEVERITIES:
        problems.append(f"{source}: {name} needs labels.severity in {SEVERITIES}")
    annotations = rule.get("annotations", {})
    problems += [
        f"{source}: {name} needs a non-empty {key} annotation"
        for key in REQUIRED_ANNOTATIONS
        if not str(annotations.get(key, "")).strip()
    ]
    return problems


def load_rule_sources(directory: Path = RULES_DIR) -> dict[str, dict]:
    """{file stem: rule file document}; raises RuleSourceError with every problem found."""
    documents: dict[str, dict] = {}
    problems: list[str] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        for group in document.get("groups", []):
            for rule in group.get("rules", []):
                if "alert" not in rule:
                    continue
                name = rule["alert"]
                problems += alert_problems(path.name, rule)
                for generated in ("runbook_url", "dashboard_url"):
                    if generated in rule.get("annotations", {}):
                        problems.append(f"{path.name}: {name} sets {generated}; florai_alerts adds it")
                if name in seen:
                    problems.append(f"{path.name}: {name} is already defined in {seen[name]}")
                seen[name] = path.name
        documents[path.stem] = document
    if problems:
        raise RuleSourceError("\n".join(problems))
    return documents
