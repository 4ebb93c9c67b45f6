"""The one pattern every alert's runbook_url is built from."""

from __future__ import annotations

from pathlib import Path

import yaml

from florai_alerts.layout import REPO_ROOT, RUNBOOKS_DIR
from florai_infra.config import GitOpsSettings

# Runbooks are read from the default branch whatever revision a stack deploys.
RUNBOOK_BRANCH = "main"
RUNBOOK_STACK = "prod"


def repository_web_url(stack: str = RUNBOOK_STACK) -> str:
    """The repository the Argo CD root Application syncs (Pulumi gitops config), as a web URL."""
    # Only the gitops key is read: the rest of the stack config is the Pulumi program's to validate.
    config = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text()).get("config", {})
    gitops = config.get("florai:gitops") or {}
    return str(gitops.get("repoUrl", GitOpsSettings().repo_url)).removesuffix(".git").rstrip("/")


def runbook_path(alertname: str) -> Path:
    return RUNBOOKS_DIR / f"{alertname}.md"


def runbook_url(alertname: str, repo_url: str | None = None) -> str:
    """``<repo>/blob/main/runbooks/<AlertName>.md``: the only place the pattern is written."""
    base = repo_url or repository_web_url()
    relative = runbook_path(alertname).relative_to(REPO_ROOT).as_posix()
    return f"{base}/blob/{RUNBOOK_BRANCH}/{relative}"
