"""A committed stack file's values, as ``settings_from_mapping`` takes them."""

from __future__ import annotations

from typing import Any

from florai_infra.offline.engine import load_stack_config


def florai_values(stack: str) -> dict[str, Any]:
    return {
        k.removeprefix("florai:"): v for k, v in load_stack_config(stack).items() if k.startswith("florai:")
    }


def account_ids(stack: str) -> list[str]:
    return load_stack_config(stack)["aws:allowedAccountIds"]
