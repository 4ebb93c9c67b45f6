"""Check Helm values against a chart version's own values.yaml, vendored under
platform/upstream/charts/<chart>/<version>/ (SOURCE.yaml says where it came from).

Helm ignores an unknown key silently (external-secrets 0.12 never read the ``env`` this repo set), so
every key path a values object sets must exist upstream. Allowed beyond the keys present: anything
below a free-form map (``{}`` or an empty key in values.yaml, e.g. ``annotations``, ``nodeSelector``,
``resources:``), below a map listed in FREE_FORM (upstream defaults that are examples or pass-through
maps), list contents (lists replace, they do not merge), keys documented as comments in their
parent's block (``# configSecret:``), and subcharts' values (SOURCE.yaml ``subcharts``).

One checker for every chart this repository sets values for: the add-ons' ApplicationSets (argocd/)
and the program's Argo CD bootstrap release.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from florai_infra import upstream as vendored

CHARTS = vendored.path("charts", "")
COMMENTED_KEY = re.compile(r"^(?P<indent>\s*)#\s{0,2}(?P<key>[A-Za-z_][\w.-]*):(\s|$)")
REAL_KEY = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z_][\w.-]*|\"[^\"]+\"):(\s|$)")

KeyPath = tuple[str, ...]
# Maps whose upstream default holds examples or pass-through data rather than the full key set.
FREE_FORM: dict[str, frozenset[KeyPath]] = {
    # `config.modules` lists example modules (http_2xx...); each module is named by the user.
    "prometheus-blackbox-exporter": frozenset({("config", "modules")}),
    # The collector's own configuration (receivers, exporters, pipelines) is free-form by design.
    "opentelemetry-collector": frozenset({("config",)}),
    # Flags passed to the binary as --key=value; the defaults list a few of them.
    "cluster-autoscaler": frozenset({("extraArgs",)}),
    # argocd-cm's data: any key Argo CD reads.
    "argo-cd": frozenset({("configs", "cm")}),
}


def folder(chart: str, version: str) -> Path:
    return CHARTS / chart / str(version)


def source(chart: str, version: str) -> dict[str, Any]:
    """The vendored chart version's SOURCE.yaml (chart, version, helm_repository, url, retrieved)."""
    return yaml.safe_load((folder(chart, version) / "SOURCE.yaml").read_text())


def key_paths(values: Any, prefix: KeyPath = ()) -> Iterator[KeyPath]:
    """Every key path a values object sets, down to its leaves (lists and scalars are leaves)."""
    if isinstance(values, dict) and values:
        for key, child in values.items():
            yield from key_paths(child, (*prefix, str(key)))
    else:
        yield prefix


def commented_keys(text: str) -> set[KeyPath]:
    """Key paths documented only as comments (``# key:``) inside their parent's block of values.yaml."""
    stack: list[tuple[int, str]] = []  # (indent, key) of the real keys enclosing the current line
    found: set[KeyPath] = set()
    for line in text.splitlines():
        if not line.strip():
            continue
        real = REAL_KEY.match(line)
        commented = COMMENTED_KEY.match(line)
        match = real or commented
        if not match:
            continue
        indent = len(match.group("indent"))
        if real:
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, real.group("key").strip('"')))
        else:
            parents = [k for i, k in stack if i < indent]
            found.add((*parents, commented.group("key")))
    return found


def deep_merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


@functools.cache
def upstream(chart: str, version: str) -> tuple[dict, frozenset[KeyPath]]:
    """(values, commented key paths) of a vendored chart version, its subcharts' under their keys."""
    text = (folder(chart, version) / "values.yaml").read_text()
    values, commented = yaml.safe_load(text) or {}, set(commented_keys(text))
    for sub, sub_version in (source(chart, version).get("subcharts") or {}).items():
        sub_values, sub_commented = upstream(sub, str(sub_version))
        values = deep_merge(values, {sub: deep_merge(sub_values, values.get(sub) or {})})
        commented |= {(sub, *p) for p in sub_commented}
    return values, frozenset(commented)


def is_known(path: KeyPath, values: Any, commented: frozenset[KeyPath]) -> bool:
    node = values
    for depth, key in enumerate(path):
        if not isinstance(node, dict):
            return node is None  # an empty key (`resources:`) is a free-form slot
        if key in node:
            node = node[key]
            continue
        return not node or path[: depth + 1] in commented  # `{}`: a free-form map
    return True


def unknown_keys(values: dict, chart: str, version: str) -> list[str]:
    """The dotted key paths ``values`` sets that the chart version does not define."""
    upstream_values, commented = upstream(chart, str(version))
    free = FREE_FORM.get(chart, frozenset())
    return [
        ".".join(p)
        for p in key_paths(values)
        if not is_known(p, upstream_values, commented) and not any(p[: len(f)] == f for f in free)
    ]
