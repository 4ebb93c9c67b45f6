"""`make preview LIVE=1`: the real `pulumi preview --diff` with the CrossGuard pack, when it can run."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from florai_infra.offline.engine import REPO_ROOT

POLICY_PACK_DIR = REPO_ROOT / "platform" / "policy-pack"
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE")
AWS_CONFIG_FILES = ("credentials", "config")

MISSING_CLI = (
    "the pulumi CLI is not on PATH: install it (curl -fsSL https://get.pulumi.com | sh, "
    "see https://www.pulumi.com/docs/install/) and log in to the state backend (pulumi login)"
)
MISSING_CREDENTIALS = (
    "no AWS credentials: set AWS_PROFILE (after `aws sso login --profile <name>`), or "
    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_WEB_IDENTITY_TOKEN_FILE (CI with OIDC), "
    "or create ~/.aws/credentials with `aws configure`"
)


def has_aws_credentials(env: Mapping[str, str], home: Path) -> bool:
    if any(env.get(name) for name in CREDENTIAL_VARIABLES):
        return True
    return any((home / ".aws" / name).is_file() for name in AWS_CONFIG_FILES)


def missing_prerequisites(
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> list[str]:
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    missing = []
    if which("pulumi") is None:
        missing.append(MISSING_CLI)
    if not has_aws_credentials(env, home):
        missing.append(MISSING_CREDENTIALS)
    return missing


def live_command(stack: str) -> list[str]:
    return ["pulumi", "preview", "--diff", "--stack", stack, "--policy-pack", str(POLICY_PACK_DIR)]


def run_live(stack: str, err: TextIO) -> int:
    missing = missing_prerequisites()
    if missing:
        for reason in missing:
            print(f"error: --live cannot run: {reason}", file=err)
        print("hint: `make preview` without LIVE runs the offline preview, which needs neither", file=err)
        return 2
    return subprocess.run(live_command(stack), cwd=REPO_ROOT, check=False).returncode
