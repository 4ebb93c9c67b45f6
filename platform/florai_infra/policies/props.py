"""Reading wire-format props the same way offline (plain dicts) and in CrossGuard (proxies)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from florai_infra.policies.model import Props
from florai_infra.tagging import TAG_ENVIRONMENT

DEV_ENVIRONMENT = "dev"
PROD_ENVIRONMENT = "prod"


def dig(props: Any, *path: str | int) -> Any:
    """``props[a][b]...`` or None when any step is missing."""
    value = props
    for step in path:
        if isinstance(step, int):
            if not is_list(value) or step >= len(value):
                return None
            value = value[step]
        else:
            if not isinstance(value, Mapping):
                return None
            value = value.get(step)
    return value


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def as_list(value: Any) -> list[Any]:
    """A list input, or a single object block (some providers take either), as a list."""
    if value is None:
        return []
    if is_list(value):
        return list(value)
    return [value]


def is_true(value: Any) -> bool:
    """Booleans arrive as bool, and some (launch template EBS ``encrypted``) as the string "true"."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def tags_of(props: Props) -> Mapping[str, Any]:
    tags = props.get("tags")
    return tags if isinstance(tags, Mapping) else {}


def environment_of(props: Props) -> str | None:
    value = tags_of(props).get(TAG_ENVIRONMENT)
    return value if isinstance(value, str) and value else None


def is_dev(props: Props) -> bool:
    """Relaxed rules only where the resource says it is dev; an untagged resource gets the strict ones."""
    return environment_of(props) == DEV_ENVIRONMENT


def is_prod(props: Props) -> bool:
    """Prod rules apply to prod and to resources that do not say their environment."""
    return environment_of(props) in (PROD_ENVIRONMENT, None)
