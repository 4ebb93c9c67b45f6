"""image.yml builds, scans, pushes and pins both images (issue 16, finding 8) with every action pinned by
commit SHA and the pin pushed by the deploy bot, not GITHUB_TOKEN (issue 15, item 8)."""

from __future__ import annotations

import re

import yaml

from florai_gitops import appsets, promote

WORKFLOW = appsets.REPO_ROOT / ".github" / "workflows" / "image.yml"
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+\s*$")


def job() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]["build-scan-push"]


def test_every_action_is_pinned_by_commit_sha_with_its_release():
    lines = [line for line in WORKFLOW.read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    assert lines and [line for line in lines if not PINNED.match(line)] == []


def test_both_images_are_built_scanned_pushed_and_pinned():
    steps = job()["steps"]
    builds = [s for s in steps if s.get("uses", "").startswith("docker/build-push-action@")]
    assert len(builds) == 2
    variants = ["TORCH_VARIANT=cuda" in s["with"]["build-args"] for s in builds]
    assert sorted(variants) == [False, True]
    tags = {s["with"]["tags"] for s in builds}
    scanned = {
        s["with"]["image-ref"] for s in steps if s.get("uses", "").startswith("aquasecurity/trivy-action@")
    }
    assert scanned == tags
    push = next(s["run"] for s in steps if "docker push" in s.get("run", ""))
    assert push.count("docker push") == 2
    pin = next(s["run"] for s in steps if "--commit" in s.get("run", ""))
    for name in promote.IMAGE_NAMES:
        assert f'--image "{name}=' in pin, name
    index = {id(s): i for i, s in enumerate(steps)}
    last_scan = max(index[id(s)] for s in steps if s.get("uses", "").startswith("aquasecurity/trivy-action@"))
    push_at = next(i for i, s in enumerate(steps) if "docker push" in s.get("run", ""))
    pin_at = next(i for i, s in enumerate(steps) if "--commit" in s.get("run", ""))
    assert last_scan < push_at < pin_at


def test_the_pin_is_pushed_by_the_deploy_bot_not_the_workflow_token():
    steps = job()["steps"]
    bot = next(s for s in steps if s.get("uses", "").startswith("actions/create-github-app-token@"))
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["token"] == f"${{{{ steps.{bot['id']}.outputs.token }}}}"
    assert job()["permissions"]["contents"] == "read"
