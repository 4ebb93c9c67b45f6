"""The offline preview CLI on a small program of ours: sections, masking, exit codes, determinism."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from florai_infra.offline import engine
from florai_infra.offline.engine import REPO_ROOT
from florai_infra.policies import RESOURCE_POLICIES, STACK_POLICIES
from florai_infra.preview.cli import ELAPSED_PREFIX, main
from florai_infra.preview.diff import WIDTH
from florai_infra.preview.style import Style

PROGRAMS = Path(__file__).parent / "programs"
SMALL_STACK = PROGRAMS / "small_stack.py"
CIPHERTEXT = "v1:AAABAOfflineCiphertext"
SMALL_CONFIG = {
    "aws:region": "eu-west-1",
    "florai:environment": "prod",
    "florai:dbPassword": {"secure": CIPHERTEXT},
}
PREVIEW_MODULE = [sys.executable, "-m", "florai_infra.preview"]


def config_file(tmp_path: Path, **overrides: Any) -> Path:
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(yaml.safe_dump({"config": {**SMALL_CONFIG, **overrides}}))
    return path


def preview(tmp_path: Path, *extra: str, program: Path = SMALL_STACK, **config: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["--stack", "prod", "--program", str(program), "--config", str(config_file(tmp_path, **config))]
    rc = main([*argv, "--plans-dir", str(tmp_path / "plans"), *extra], out=out, err=err)
    return rc, out.getvalue(), err.getvalue()


def without_timing(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith(ELAPSED_PREFIX)]


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> tuple[int, str, str]:
    return preview(tmp_path_factory.mktemp("clean"))


def test_clean_stack_exits_zero(clean_run):
    rc, out, err = clean_run
    assert rc == 0, out
    assert err == ""
    pack = len(RESOURCE_POLICIES) + len(STACK_POLICIES)  # the whole pack, every policy judged
    assert f"{pack}/{pack} policies passed, 0 mandatory and 0 advisory violations" in out


def test_header_says_offline(clean_run):
    lines = clean_run[1].splitlines()
    assert lines[0] == "Previewing stack florai/prod"
    assert "region: eu-west-1" in lines[1]
    assert "offline: no cloud calls, computed values are placeholders" in lines[2]


def test_tree_nests_resources_under_their_components(clean_run):
    out = clean_run[1]
    assert re.search(r"^\+   pulumi:pulumi:Stack +florai-prod +create$", out, re.M)
    assert re.search(r"^\+   ├─ florai:cluster:Cluster +cluster +create$", out, re.M)
    # key settings follow their row, indented under the tree's guide, wrapped to the width
    node_group = re.search(
        r"^\+   │  └─ aws:eks/nodeGroup:NodeGroup +cluster-gpu +create\n((?:    │        .*\n)+)", out, re.M
    )
    assert node_group, out
    assert 'instanceTypes=["g5.xlarge"]' in node_group[1]
    assert '"key":"nvidia.com/gpu"' in node_group[1]
    assert all(len(line) <= WIDTH for line in node_group[1].splitlines())
    assert re.search(
        r"^\+   └─ aws:kms/key:Key +platform-key +create  \[protected, retained on delete\]\n"
        r"          enableKeyRotation=true$",
        out,
        re.M,
    )
    assert re.search(
        r"db-postgres +create  \[protected, retained on delete\]\n"
        r"    │        engine=postgres [^+]*multiAz=true",
        out,
    )


def test_summary_counts_by_component(clean_run):
    out = clean_run[1]
    assert "    + 16 to create" in out
    assert re.search(r"florai:cluster:Cluster cluster +4$", out, re.M)
    assert re.search(r"florai:storage:ModelStore models +4$", out, re.M)
    assert re.search(r"\(directly in the stack\) +1$", out, re.M)


def test_secrets_are_masked_everywhere(clean_run, tmp_path):
    out = clean_run[1]
    assert re.search(r'^    databasePassword: +"\[secret\]"$', out, re.M)
    assert CIPHERTEXT not in out
    rc, plan_json, _ = preview(tmp_path, "--json")
    assert rc == 0
    assert '"password": "[secret]"' in plan_json
    assert CIPHERTEXT not in plan_json


def test_no_snapshot_yet_is_said(clean_run):
    assert "no committed plan yet: run `make plan`" in clean_run[1]


def test_mandatory_violation_exits_non_zero(tmp_path):
    rc, out, _ = preview(tmp_path, **{"florai:publicDatabase": True})
    assert rc == 1
    assert "FAIL  rds-not-public (mandatory)" in out
    assert "aws:rds/instance:Instance db-postgres: publiclyAccessible is true" in out
    assert "1 mandatory and 0 advisory violations" in out


def test_advisory_violation_is_printed_but_passes(tmp_path):
    rc, out, _ = preview(tmp_path, **{"florai:keyRotation": False})
    assert rc == 0
    assert "warn  kms-key-rotation (advisory)" in out
    assert "aws:kms/key:Key platform-key: enableKeyRotation is not true" in out


def test_config_error_exits_two_with_the_key(tmp_path):
    rc, out, err = preview(tmp_path, program=PROGRAMS / "config_error.py", **{"florai:nodeCount": 0})
    assert rc == 2
    assert out == ""
    assert err == "error: config error: florai:nodeCount must be a positive integer, got 0\n"


def test_one_line_for_a_problem_list():
    from florai_infra.preview.cli import one_line

    assert one_line("invalid config (2 problem(s)):\n  - a: bad\n  - b: worse") == (
        "invalid config (2 problem(s)): a: bad; b: worse"
    )


def test_output_is_stable_across_processes(tmp_path):
    """Same stack twice, the second in a fresh interpreter (other hash seed): identical but the timing."""
    argv = ["--stack", "prod", "--program", str(SMALL_STACK), "--config", str(config_file(tmp_path))]
    argv += ["--plans-dir", str(tmp_path / "plans"), "--no-color"]
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    second = subprocess.run([*PREVIEW_MODULE, *argv], capture_output=True, text=True, env=env, check=False)
    assert second.returncode == 0, second.stderr
    first = without_timing(preview(tmp_path, "--no-color")[1])
    assert first == without_timing(second.stdout)
    assert sum(line.startswith(ELAPSED_PREFIX) for line in second.stdout.splitlines()) == 1


def test_unknown_stack_is_one_line_exit_two():
    result = subprocess.run([*PREVIEW_MODULE, "--stack", "qa"], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr == "error: unknown stack 'qa'; known stacks: dev, staging, prod\n"
    assert result.stdout == ""


def test_write_plans_then_no_changes(tmp_path):
    out = io.StringIO()
    argv = ["--write-plans", "prod", "--program", str(SMALL_STACK), "--config", str(config_file(tmp_path))]
    assert main([*argv, "--plans-dir", str(tmp_path / "plans")], out=out) == 0
    assert out.getvalue().startswith("wrote ") and "(15 resources)" in out.getvalue()
    rc, text, _ = preview(tmp_path)
    assert rc == 0
    assert "    no changes against the committed plan" in text


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal():
    assert Style.for_stream(io.StringIO()).green("x") == "x"
    assert Style.for_stream(FakeTerminal()).green("x") == "\033[32mx\033[0m"
    assert Style.for_stream(FakeTerminal(), no_color=True).green("x") == "x"


def test_colour_reaches_the_output_on_a_terminal(tmp_path):
    out = FakeTerminal()
    argv = ["--stack", "prod", "--program", str(SMALL_STACK), "--config", str(config_file(tmp_path))]
    main([*argv, "--plans-dir", str(tmp_path)], out=out)
    assert "\033[32m+\033[0m" in out.getvalue()
    plain = FakeTerminal()
    main([*argv, "--plans-dir", str(tmp_path), "--no-color"], out=plain)
    assert "\033[" not in plain.getvalue()


def test_real_program_config_error_names_the_key(tmp_path):
    """florai_infra.config.ConfigError from the real program: exit 2, one line, the offending keys."""
    config = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())["config"]
    del config["florai:owner"]
    config["florai:azCount"] = 9
    bad = tmp_path / "Pulumi.dev.yaml"
    bad.write_text(yaml.safe_dump({"config": config}))
    out, err = io.StringIO(), io.StringIO()
    assert main(["--stack", "dev", "--config", str(bad)], out=out, err=err) == 2
    assert out.getvalue() == ""
    assert err.getvalue().startswith("error: config error: invalid config for stack 'dev'")
    assert err.getvalue().count("\n") == 1
    assert "florai:owner" in err.getvalue() and "florai:azCount" in err.getvalue()


BROKEN_YAML = "config:\n  aws:region: us-east-1\n  florai:owner: [platform\n  florai:costCentre: cc\n"
YAML_ERROR = "error: config error: invalid config for stack 'dev' (1 problem(s)): Pulumi.dev.yaml, line 4: "


def test_yaml_syntax_error_in_the_stack_file_is_one_line(tmp_path, monkeypatch):
    """The stack's own Pulumi.<stack>.yaml broken: exit 2, the file and line, no traceback."""
    broken = tmp_path / "Pulumi.dev.yaml"
    broken.write_text(BROKEN_YAML)
    monkeypatch.setattr(engine, "stack_config_path", lambda stack: broken)
    out, err = io.StringIO(), io.StringIO()
    assert main(["--stack", "dev", "--plans-dir", str(tmp_path)], out=out, err=err) == 2
    assert out.getvalue() == ""
    assert err.getvalue().startswith(YAML_ERROR) and err.getvalue().endswith("fix the YAML syntax there\n")
    assert err.getvalue().count("\n") == 1
    out, err = io.StringIO(), io.StringIO()
    assert main(["--stack", "dev", "--config", str(broken)], out=out, err=err) == 2  # the same via --config
    assert err.getvalue().startswith(YAML_ERROR) and err.getvalue().count("\n") == 1


def test_yaml_syntax_error_through_the_module_is_one_line(tmp_path):
    """``python -m florai_infra.preview`` in a scratch copy whose Pulumi.dev.yaml is broken."""
    shutil.copytree(REPO_ROOT / "platform" / "florai_infra", tmp_path / "platform" / "florai_infra")
    (tmp_path / "Pulumi.dev.yaml").write_text(BROKEN_YAML)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "platform")}
    argv = [*PREVIEW_MODULE, "--stack", "dev"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith(YAML_ERROR) and done.stderr.count("\n") == 1, done.stderr


def test_key_settings_collect_list_fields_and_skip_unset():
    from florai_infra.offline.plan import PlannedResource
    from florai_infra.preview.settings import key_settings

    rules = [
        {"name": "common", "statement": {"managedRuleGroupStatement": {"name": "x"}}},
        {"name": "rate", "statement": {"rateBasedStatement": {"limit": 2000}}},
    ]
    acl = PlannedResource("urn:acl", "aws:wafv2/webAcl:WebAcl", "acl", None, True, (), {"rules": rules})
    limit = "rules.statement.rateBasedStatement.limit=[2000]"
    assert key_settings(acl) == f'rules.name=["common","rate"]  {limit}'
    vpc = PlannedResource("urn:vpc", "aws:ec2/vpc:Vpc", "vpc", None, True, (), {"tags": {"a": "b"}})
    assert key_settings(vpc) == ""
