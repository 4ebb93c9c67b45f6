"""The committed plan snapshots, platform/plans/<stack>.json (written by `make plan`)."""

from __future__ import annotations

from pathlib import Path

from florai_infra.offline.engine import REPO_ROOT
from florai_infra.offline.plan import Plan

PLANS_DIR = REPO_ROOT / "platform" / "plans"


def snapshot_path(stack: str, plans_dir: Path = PLANS_DIR) -> Path:
    return plans_dir / f"{stack}.json"


def read_snapshot(stack: str, plans_dir: Path = PLANS_DIR) -> Plan | None:
    path = snapshot_path(stack, plans_dir)
    return Plan.loads(path.read_text()) if path.exists() else None


def write_snapshot(plan: Plan, plans_dir: Path = PLANS_DIR) -> Path:
    path = snapshot_path(plan.stack, plans_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(plan.dumps())
    return path
