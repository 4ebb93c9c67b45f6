"""Checkov's AWS checks on every stack's plan: one run over the exported Terraform-plan files.

Findings the platform accepts are waived, each with its reason, in platform/checkov-waivers.yaml.
``python -m florai_infra.tfplan.checkov`` prints the counts and any failure; exit 1 on a failure.
"""

from __future__ import annotations

import fnmatch
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from florai_gitops.validate import run_checkov
from florai_infra import STACKS
from florai_infra.offline.engine import REPO_ROOT
from florai_infra.offline.plan import Plan
from florai_infra.preview.snapshots import read_snapshot
from florai_infra.tfplan.export import export

WAIVERS_FILE = REPO_ROOT / "platform" / "checkov-waivers.yaml"
SUFFIX = ".tfplan.json"


@dataclass(frozen=True)
class Waiver:
    check: str
    resources: tuple[str, ...]
    reason: str

    def covers(self, check: str, target: str) -> bool:
        return check == self.check and any(fnmatch.fnmatchcase(target, p) for p in self.resources)


@dataclass
class Scan:
    passed: list[dict[str, Any]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "CHECK stack:address: name", not waived
    waived: list[str] = field(default_factory=list)
    unused: list[Waiver] = field(default_factory=list)
    parsing_errors: list[str] = field(default_factory=list)
    files: set[str] = field(default_factory=set)


def load_waivers(path: Path = WAIVERS_FILE) -> list[Waiver]:
    entries = (yaml.safe_load(path.read_text()) or {}).get("waivers") or []
    return [Waiver(e["check"], tuple(e["resources"]), str(e.get("reason") or "").strip()) for e in entries]


def _stack_of(check: dict[str, Any]) -> str:
    return Path(check["file_path"]).name.removesuffix(SUFFIX)


def scan(plans: dict[str, Plan], waivers: list[Waiver] | None = None) -> Scan:
    """Export each plan, run Checkov once over all of them, sort findings into failed and waived."""
    waivers = load_waivers() if waivers is None else waivers
    used: set[Waiver] = set()
    result = Scan()
    with tempfile.TemporaryDirectory(prefix="florai-tfplan-") as folder:
        for stack, plan in plans.items():
            Path(folder, f"{stack}{SUFFIX}").write_text(json.dumps(export(plan), indent=1, sort_keys=True))
        report = run_checkov("terraform_plan", Path(folder))
    result.passed = report["passed"]
    result.parsing_errors = [str(e) for e in report["parsing_errors"]]
    result.files = {_stack_of(c) for c in report["passed"] + report["failed"]}
    for check in report["failed"]:
        target = f"{_stack_of(check)}:{check['resource']}"
        line = f"{check['check_id']} {target}: {check['check_name']}"
        waiver = next((w for w in waivers if w.covers(check["check_id"], target)), None)
        if waiver:
            used.add(waiver)
            result.waived.append(line)
        else:
            result.failed.append(line)
    result.unused = [w for w in waivers if w not in used]
    return result


def main() -> int:
    result = scan({stack: read_snapshot(stack) for stack in STACKS})
    counts = f"{len(result.passed)} passed, {len(result.waived)} waived, {len(result.failed)} failed"
    print(f"checkov terraform_plan: {counts}")
    for line in result.failed:
        print(f"  FAIL {line}")
    for waiver in result.unused:
        print(f"  unused waiver {waiver.check} {list(waiver.resources)}")
    return 1 if result.failed or result.unused or result.parsing_errors else 0


if __name__ == "__main__":
    sys.exit(main())
