"""--format json for machines and markdown for the pull request summary, on a change that replaces."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from florai_infra.offline.engine import REPO_ROOT, load_stack_config
from florai_infra.offline.placeholders import invented
from florai_infra.preview.cli import EXIT_GUARDED, main
from florai_infra.preview.diff import WIDTH


def run(tmp_path: Path, fmt: str, **edits) -> tuple[int, str]:
    config = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())["config"]
    config.update(edits)
    scratch = tmp_path / f"Pulumi.dev.{fmt}.yaml"
    scratch.write_text(yaml.safe_dump({"config": config}))
    out = io.StringIO()
    argv = ["--stack", "dev", "--config", str(scratch), "--no-color", "--allow-replace", "", "--format", fmt]
    return main(argv, out=out), out.getvalue()


@pytest.fixture(scope="module")
def region_move(tmp_path_factory) -> dict[str, tuple[int, str]]:
    folder = tmp_path_factory.mktemp("formats")
    return {fmt: run(folder, fmt, **{"aws:region": "us-west-2"}) for fmt in ("json", "markdown", "text")}


def test_json_says_what_happens_and_what_it_costs(region_move):
    rc, text = region_move["json"]
    data = json.loads(text)
    assert rc == EXIT_GUARDED == data["exitCode"]
    database = "urn:pulumi:dev::florai::florai:database:Database$aws:rds/instance:Instance::database"
    [action] = [c for c in data["change"]["changes"] if c["urn"] == database]
    assert action["action"] == "delete-before-replace"
    assert "region us-east-1 -> us-west-2" in action["why"]
    guarded = {"urn": database, "category": "database", "verb": "replace", "acknowledged": False}
    assert {**guarded, "protected": False} in data["change"]["guarded"]
    assert data["cost"]["monthlyTotal"] == round(sum(data["cost"]["byComponent"].values()), 2)
    assert data["cost"]["monthlyDelta"] == round(
        data["cost"]["monthlyTotal"] - data["cost"]["committedMonthlyTotal"], 2
    )
    # invented values are listed as such for machines; the stack's own account is not one of them
    database_endpoint = data["placeholders"]
    assert "<endpoint of database>" in database_endpoint.values()
    assert load_stack_config("dev")["aws:allowedAccountIds"][0] not in data["placeholders"]


def test_markdown_summary_puts_the_guard_first(region_move):
    rc, text = region_move["markdown"]
    assert rc == EXIT_GUARDED
    lines = text.splitlines()
    assert lines[0] == "### Infrastructure preview: `florai/dev` (us-west-2)"
    assert lines[2] == "> [!CAUTION]"
    database = "> - replace database: `aws:rds/instance:Instance` database"
    assert f"{database} (**not acknowledged**: `ALLOW_REPLACE=database`)" in lines
    assert any(line.startswith("**Monthly cost: $") for line in lines)
    assert "| +- delete-before-replace | `aws:rds/instance:Instance` database |" in text
    assert not any(value in text for value in invented())  # nothing made up reads as real


def test_terminal_lines_wrap_to_a_readable_width(region_move):
    _, text = region_move["text"]
    diff = text[text.index("Diff against the committed plan") :].splitlines()
    assert max(len(line) for line in diff if "why:" in line or line.startswith(" " * 13)) <= WIDTH
