"""promtool (Debian package `prometheus`) on plain rule files and unit-test files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

PROMTOOL = "promtool"


def promtool_path() -> str:
    path = shutil.which(PROMTOOL)
    if path is None:
        raise FileNotFoundError("promtool not found: install the Debian package `prometheus`")
    return path


def run_check_rules(rule_files: list[Path]) -> subprocess.CompletedProcess[str]:
    command = [promtool_path(), "check", "rules", *map(str, rule_files)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def run_unit_tests(test_file: Path) -> subprocess.CompletedProcess[str]:
    # promtool resolves rule_files relative to the test file; run it from there.
    return subprocess.run(
        [promtool_path(), "test", "rules", test_file.name],
        cwd=test_file.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )


def alert_cases(test_file: Path) -> dict[str, dict[str, int]]:
    """{alertname: {"fires": n, "silent": n}} over every alert_rule_test of a promtool test file."""
    cases: dict[str, dict[str, int]] = {}
    for group in yaml.safe_load(test_file.read_text())["tests"]:
        for case in group.get("alert_rule_test", []):
            counts = cases.setdefault(case["alertname"], {"fires": 0, "silent": 0})
            counts["fires" if case.get("exp_alerts") else "silent"] += 1
    return cases


def expressions_under_test(test_file: Path) -> list[str]:
    return [
        case["expr"]
        for group in yaml.safe_load(test_file.read_text())["tests"]
        for case in group.get("promql_expr_test", [])
    ]
