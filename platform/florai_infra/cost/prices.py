"""The vendored price table (platform/upstream/prices/aws-prices.json): one lookup, one clear error."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from florai_infra.offline.engine import REPO_ROOT

PRICES_FILE = REPO_ROOT / "platform" / "upstream" / "prices" / "aws-prices.json"
ASSUMPTIONS_FILE = REPO_ROOT / "platform" / "cost-assumptions.yaml"


class MissingPriceError(LookupError):
    """The plan uses something the price table has no price for: one line with the fix."""


@cache
def price_table(path: Path = PRICES_FILE) -> dict[str, Any]:
    return json.loads(path.read_text())


def price(region: str, *path: str) -> float:
    """``price("us-east-1", "ec2", "instanceHour", "g6.xlarge")`` -> USD."""
    table = price_table()
    node: Any = table["regions"].get(region)
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, int | float):
        where = "/".join(path)
        raise MissingPriceError(
            f"no price for {where} in {region} in {PRICES_FILE.name}: add it (`make prices` refreshes it)"
        )
    return float(node)


def hours_per_month() -> int:
    return int(price_table()["hoursPerMonth"])


@cache
def assumptions(stack: str, path: Path = ASSUMPTIONS_FILE) -> dict[str, float]:
    stacks = (yaml.safe_load(path.read_text()) or {}).get("stacks") or {}
    if stack not in stacks:
        raise MissingPriceError(f"no usage assumptions for stack {stack!r} in {path.name}")
    return stacks[stack]
