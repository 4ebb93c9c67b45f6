"""--live: refuses clearly without the Pulumi CLI or AWS credentials, otherwise runs `pulumi preview`."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from florai_infra.preview.cli import main
from florai_infra.preview.live import MISSING_CLI, MISSING_CREDENTIALS, POLICY_PACK_DIR, missing_prerequisites

AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE")


@pytest.fixture
def bare_machine(tmp_path, monkeypatch) -> Path:
    """No pulumi on PATH, no AWS variables, an empty home: like this machine and a fresh laptop."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return bin_dir


def install_fake_pulumi(bin_dir: Path, record: Path, exit_code: int) -> None:
    """The real CLI cannot run here; this stand-in records the arguments it was given."""
    script = bin_dir / "pulumi"
    script.write_text(f'#!/bin/sh\necho "$@" > {record}\nexit {exit_code}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def run_live(stack: str = "dev") -> tuple[int, str]:
    err = io.StringIO()
    rc = main(["--stack", stack, "--live"], out=io.StringIO(), err=err)
    return rc, err.getvalue()


def test_both_missing_exits_two_and_says_how_to_fix(bare_machine):
    rc, err = run_live()
    assert rc == 2
    assert f"error: --live cannot run: {MISSING_CLI}" in err
    assert f"error: --live cannot run: {MISSING_CREDENTIALS}" in err
    assert "get.pulumi.com" in err and "AWS_PROFILE" in err


def test_credentials_missing_only(bare_machine, tmp_path):
    install_fake_pulumi(bare_machine, tmp_path / "args", 0)
    rc, err = run_live()
    assert rc == 2
    assert MISSING_CLI not in err
    assert MISSING_CREDENTIALS in err
    assert not (tmp_path / "args").exists()


@pytest.mark.parametrize("variable", ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE"])
def test_each_credential_variable_counts(bare_machine, monkeypatch, variable):
    monkeypatch.setenv(variable, "x")
    assert missing_prerequisites() == [MISSING_CLI]


def test_aws_credentials_file_counts(bare_machine, tmp_path):
    aws_dir = tmp_path / "home" / ".aws"
    aws_dir.mkdir(parents=True)
    (aws_dir / "credentials").write_text("[default]\n")
    assert missing_prerequisites() == [MISSING_CLI]


def test_runs_pulumi_preview_with_the_policy_pack(bare_machine, monkeypatch, tmp_path):
    record = tmp_path / "args"
    install_fake_pulumi(bare_machine, record, 3)
    monkeypatch.setenv("AWS_PROFILE", "florai-prod")
    rc, err = run_live("prod")
    assert rc == 3  # pulumi's own exit status is passed through
    assert err == ""
    expected = ["preview", "--diff", "--stack", "prod", "--policy-pack", str(POLICY_PACK_DIR)]
    assert record.read_text().split() == expected


def test_unknown_stack_fails_before_the_live_run(bare_machine):
    rc, err = run_live("qa")
    assert rc == 2
    assert err == "error: unknown stack 'qa'; known stacks: dev, staging, prod\n"
