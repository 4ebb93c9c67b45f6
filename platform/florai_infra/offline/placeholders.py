"""Values the offline engine invents (ids, ARNs, endpoints, versions): remembered, then printed as such.

The plan JSON keeps the invented values (references between resources need them); whatever the
preview prints passes through ``mask``, which shows each as ``<arn of kms-rds>``.
"""

from __future__ import annotations

import re
from typing import Any

ACCOUNT_LABEL = "<account>"
MIN_LENGTH = 12  # shorter outputs ("ACTIVE", "eks.1") are states, not identifiers

# Shapes of the data-source answers offline/calls.py invents (AMI ids from SSM). Add-on versions are
# not among them: the engine answers those from the pinned table, so they print as they are.
CALL_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = ((re.compile(r"\bami-[0-9a-f]{17}\b"), "<ami id>"),)

_invented: dict[str, str] = {}
_pattern: list[re.Pattern[str] | None] = [None]


def _leaves(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, f"{prefix}.{k}" if prefix else k)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v, prefix)]
    return [(prefix, value)] if isinstance(value, str) else []


def remember(value: str, label: str) -> None:
    if len(value) >= MIN_LENGTH and value not in _invented:
        _invented[value] = label
        _pattern[0] = None


def remember_outputs(
    name: str, inputs: dict[str, Any], outputs: dict[str, Any], known: tuple[str, ...] = ()
) -> None:
    """Every output string neither passed in by the program nor one of the stack's ``known`` values."""
    given = {v for _, v in _leaves(inputs)} | set(known)
    for key, value in _leaves(outputs):
        if value not in given and key != "tagsAll":
            remember(value, f"<{key} of {name}>")


def remember_account(account_id: str) -> None:
    _invented.setdefault(account_id, ACCOUNT_LABEL)
    _pattern[0] = None


def invented() -> dict[str, str]:
    """Invented value -> its placeholder, for machines (``--format json``)."""
    return dict(sorted(_invented.items()))


def mask(text: str) -> str:
    """``text`` with every invented value replaced by its placeholder (longest first)."""
    if _pattern[0] is None and _invented:
        _pattern[0] = re.compile("|".join(re.escape(v) for v in sorted(_invented, key=len, reverse=True)))
    if _pattern[0] is not None:
        text = _pattern[0].sub(lambda m: _invented[m.group(0)], text)
    for shape, label in CALL_SHAPES:
        text = shape.sub(label, text)
    return text
