"""One way to print and to walk input values, shared by the tree and the diff."""

from __future__ import annotations

import json
from typing import Any

ABSENT = "(absent)"


def show(value: Any) -> str:
    """Compact and deterministic: scalars bare, structures as sorted one-line JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float) or value is None:
        return "null" if value is None else str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def show_quoted(value: Any) -> str:
    """For diffs, where "" and a missing value must look different."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def pluck(value: Any, path: str) -> Any:
    """Follow ``a.b``; ``a[*].b`` collects ``b`` from every element of list ``a``. None if missing."""
    head, _, rest = path.partition(".")
    if not isinstance(value, dict):
        return None
    if head.endswith("[*]"):
        items = value.get(head[:-3])
        if not isinstance(items, list):
            return None
        return [pluck(item, rest) if rest else item for item in items]
    value = value.get(head)
    return pluck(value, rest) if rest else value


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf paths of a JSON value: ``a.b`` for keys, ``a[0]`` for list items."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key in sorted(value):
            out.update(flatten(value[key], f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{i}]"))
        return out
    return {prefix: value}
