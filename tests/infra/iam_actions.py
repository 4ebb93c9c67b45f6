"""Which IAM actions a policy document allows, with IAM's own wildcard and case rules.

Used to check that a role the program declares allows every action an upstream project's
documented policy lists (platform/upstream/iam).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allowed_patterns(statements: list[dict[str, Any]]) -> list[str]:
    """Action patterns of the Allow statements (``ec2:Describe*`` stays a pattern)."""
    return [
        a.lower() for s in statements if s.get("Effect") == "Allow" for a in _as_list(s.get("Action", []))
    ]


def upstream_actions(document: dict[str, Any]) -> set[str]:
    return {
        a for s in document["Statement"] if s.get("Effect", "Allow") == "Allow" for a in _as_list(s["Action"])
    }


def missing_actions(statements: list[dict[str, Any]], required: set[str]) -> list[str]:
    """The ``required`` actions no Allow statement grants (IAM actions are case-insensitive)."""
    patterns = allowed_patterns(statements)
    return sorted(a for a in required if not any(fnmatchcase(a.lower(), p) for p in patterns))
