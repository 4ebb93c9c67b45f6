"""promtool checks and unit-tests the committed rules; every alert has a firing and a silent case."""

from __future__ import annotations

import shutil

import pytest
import yaml

from florai_alerts.layout import PLAIN_RULES_DIR, PROMTOOL_TESTS_DIR
from florai_alerts.promtool import alert_cases, expressions_under_test, run_check_rules, run_unit_tests
from florai_alerts.render import rule_files

RULE_FILES = sorted(PLAIN_RULES_DIR.glob("*.rules.yaml"))
TEST_FILES = sorted(PROMTOOL_TESTS_DIR.glob("*.test.yaml"))


def _rules(kind: str) -> set[str]:
    return {
        rule[kind]
        for _, document in rule_files().values()
        for group in document["groups"]
        for rule in group["rules"]
        if kind in rule
    }


def test_promtool_check_rules_accepts_every_generated_file():
    assert RULE_FILES, "no generated rule files"
    result = run_check_rules(RULE_FILES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(RULE_FILES)


def test_promtool_check_rules_rejects_a_broken_expression(tmp_path):
    broken = tmp_path / "broken.rules.yaml"
    broken.write_text(
        yaml.safe_dump({"groups": [{"name": "g", "rules": [{"alert": "X", "expr": "rate(up[5m]"}]}]})
    )
    result = run_check_rules([broken])
    assert result.returncode != 0


@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda p: p.name)
def test_promtool_unit_tests_pass(test_file):
    result = run_unit_tests(test_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_fail_on_a_wrong_annotation(tmp_path):
    """The harness really compares annotations: a one-word change in an expectation fails."""
    source = PROMTOOL_TESTS_DIR / "gitops.test.yaml"
    shutil.copytree(PLAIN_RULES_DIR, tmp_path / "generated" / "rules")
    (tmp_path / "tests").mkdir()
    changed = source.read_text().replace("is Degraded.", "is Healthy.", 1)
    assert changed != source.read_text()
    (tmp_path / "tests" / source.name).write_text(changed)
    result = run_unit_tests(tmp_path / "tests" / source.name)
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr


def test_every_test_file_loads_only_existing_rule_files():
    for test_file in TEST_FILES:
        for rule_file in yaml.safe_load(test_file.read_text())["rule_files"]:
            assert (test_file.parent / rule_file).resolve().is_file(), f"{test_file.name}: {rule_file}"


def test_every_alert_has_a_firing_and_a_silent_case():
    cases: dict[str, dict[str, int]] = {}
    for test_file in TEST_FILES:
        for name, counts in alert_cases(test_file).items():
            total = cases.setdefault(name, {"fires": 0, "silent": 0})
            total["fires"] += counts["fires"]
            total["silent"] += counts["silent"]
    alerts = _rules("alert")
    assert alerts - set(cases) == set(), "alerts without any promtool test"
    assert set(cases) - alerts == set(), "tests for alerts that do not exist"
    missing = {name: counts for name, counts in cases.items() if not counts["fires"] or not counts["silent"]}
    assert missing == {}


def test_every_recording_rule_is_tested():
    expressions = " ".join(e for test_file in TEST_FILES for e in expressions_under_test(test_file))
    untested = sorted(record for record in _rules("record") if record not in expressions)
    assert untested == []
