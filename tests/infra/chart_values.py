"""Check Helm values against a chart version's own values.yaml: a key the chart does not define is
silently ignored by Helm (external-secrets 0.12 ignored the `env` set for it), so tests fail on it.

``unknown_value_keys(values, chart_defaults)`` returns the dotted paths in ``values`` that do not
exist in ``chart_defaults`` (the vendored values.yaml of that chart version). Below a key whose
default is an empty map (annotations, labels, ...) or whose dotted path is in ``free_form`` (maps
the chart passes through, e.g. cluster-autoscaler's ``extraArgs`` or argo-cd's ``configs.cm``)
any sub-key is allowed; list items are not descended into (lists replace, they do not merge).
"""

from __future__ import annotations

from typing import Any


def unknown_value_keys(
    values: dict[str, Any],
    chart_defaults: dict[str, Any],
    free_form: frozenset[str] = frozenset(),
    path: str = "",
) -> list[str]:
    unknown: list[str] = []
    for key, value in values.items():
        here = f"{path}.{key}" if path else str(key)
        if key not in chart_defaults:
            unknown.append(here)
            continue
        default = chart_defaults[key]
        if isinstance(value, dict) and isinstance(default, dict) and default and here not in free_form:
            unknown += unknown_value_keys(value, default, free_form, here)
    return unknown
