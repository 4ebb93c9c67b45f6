"""Where the ALB sends a request, from the app's Ingress as the AWS Load Balancer Controller reads it.

Paths are ALB listener rules in spec order; a ``use-annotation`` backend is an action
(``alb.ingress.kubernetes.io/actions.<name>``: forward or fixed-response) taken only when its
conditions (``conditions.<name>``, query-string here) hold. Used by the tests (every task's batch
reaches its service) and by `make up` (the service label of each route).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

ANNOTATION = "alb.ingress.kubernetes.io"
USE_ANNOTATION = "use-annotation"


@dataclass(frozen=True)
class Target:
    """A Service (forward) or a fixed response (status and body) the ALB answers itself."""

    service: str | None = None
    status: int | None = None
    body: str | None = None


@dataclass(frozen=True)
class Rule:
    path: str
    path_type: str
    target: Target
    # Query-string pairs of which one must be present ((key, value) alternatives); empty = always.
    query: tuple[tuple[str, str], ...] = ()

    def matches(self, path: str, query: dict[str, list[str]]) -> bool:
        if self.path_type == "Exact":
            path_ok = path == self.path
        else:
            path_ok = path == self.path or path.startswith(self.path.rstrip("/") + "/")
        return path_ok and (not self.query or any(v in query.get(k, []) for k, v in self.query))


def _action(annotations: dict[str, str], name: str) -> tuple[Target, tuple[tuple[str, str], ...]]:
    action = json.loads(annotations[f"{ANNOTATION}/actions.{name}"])
    if action["type"] == "forward":
        (group,) = action["forwardConfig"]["targetGroups"]
        target = Target(service=group["serviceName"])
    elif action["type"] == "fixed-response":
        config = action["fixedResponseConfig"]
        target = Target(status=int(config["statusCode"]), body=config.get("messageBody"))
    else:
        raise ValueError(f"action {name}: type {action['type']!r} not modelled")
    pairs: list[tuple[str, str]] = []
    for condition in json.loads(annotations.get(f"{ANNOTATION}/conditions.{name}", "[]")):
        if condition["field"] != "query-string":
            raise ValueError(f"condition {name}: field {condition['field']!r} not modelled")
        pairs += [(v["key"], v["value"]) for v in condition["queryStringConfig"]["values"]]
    return target, tuple(pairs)


def rules(ingress: dict[str, Any]) -> list[Rule]:
    """The listener rules of the Ingress's single host, in priority order."""
    annotations = ingress["metadata"].get("annotations", {})
    (host_rule,) = ingress["spec"]["rules"]
    out = []
    for p in host_rule["http"]["paths"]:
        backend = p["backend"]["service"]
        if backend["port"].get("name") == USE_ANNOTATION:
            target, query = _action(annotations, backend["name"])
            out.append(Rule(p["path"], p["pathType"], target, query))
        else:
            out.append(Rule(p["path"], p["pathType"], Target(service=backend["name"])))
    return out


def route(ingress: dict[str, Any], path: str, query_string: str = "") -> Target | None:
    """The target of the first rule a request matches (None: the ALB's default 404)."""
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    return next((r.target for r in rules(ingress) if r.matches(path, query)), None)


def unconditional_paths(ingress: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, Service) of the rules without conditions: where a path goes whatever its query."""
    return [(r.path, r.target.service) for r in rules(ingress) if not r.query and r.target.service]
