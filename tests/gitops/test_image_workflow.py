"""image.yml builds, scans, pushes and pins the three images (issue 16, finding 8: florai and
florai-cuda; issue 18: florai-ui) with every action pinned by commit SHA and the pin pushed by the deploy
bot, not GITHUB_TOKEN (issue 15, item 8). Its shell steps run here against copies of the real overlays."""

from __future__ import annotations

import re

import yaml

from florai_gitops import appsets, promote
from florai_infra import names
from tests.gitops.workflow_runner import Runner, promotion_root, step

WORKFLOW = appsets.REPO_ROOT / ".github" / "workflows" / "image.yml"
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+\s*$")


def job() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]["build-scan-push"]


def test_every_action_is_pinned_by_commit_sha_with_its_release():
    lines = [line for line in WORKFLOW.read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    assert lines and [line for line in lines if not PINNED.match(line)] == []


def test_every_image_is_built_scanned_pushed_and_pinned():
    steps = job()["steps"]
    builds = [s for s in steps if s.get("uses", "").startswith("docker/build-push-action@")]
    assert len(builds) == len(promote.IMAGE_NAMES) == 3
    dockerfiles = sorted(
        (s["with"]["file"], "TORCH_VARIANT=cuda" in s["with"]["build-args"], s["with"]["context"])
        for s in builds
    )
    assert dockerfiles == [
        ("apps/Dockerfile", False, "apps"),
        ("apps/Dockerfile", True, "apps"),
        ("apps/ui/Dockerfile", False, "apps"),
    ]
    for build in builds:
        assert (appsets.REPO_ROOT / build["with"]["file"]).is_file()
    # Each build has its own cache scope: one image's layers never evict another's.
    assert len({s["with"]["cache-to"] for s in builds}) == 3
    tags = {s["with"]["tags"] for s in builds}
    scanned = {
        s["with"]["image-ref"] for s in steps if s.get("uses", "").startswith("aquasecurity/trivy-action@")
    }
    assert scanned == tags
    push = next(s["run"] for s in steps if "docker push" in s.get("run", ""))
    assert push.count("docker push") == 3
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


def test_the_scripts_push_each_image_to_its_own_repository_and_pin_all_three_in_one_commit(tmp_path):
    """The job's shell steps, run in order with docker and git recorded: the UI goes to the UI repository,
    the inference images to theirs, and one commit pins exactly the pushed digests in the dev overlays."""
    root = promotion_root(tmp_path)
    registry = "210987654321.dkr.ecr.us-east-1.amazonaws.com"
    sha = "0123456789abcdef0123456789abcdef01234567"
    runner = Runner(root, {"github": {"sha": sha}, "env": {"AWS_REGION": "us-east-1"}})
    runner.outputs["ecr"] = {"registry": registry}
    runner.outputs["bot"] = {"app-slug": "florai-deploy-bot", "token": "t"}
    workflow = job()
    runner.run(step(workflow, "Dev repositories"))
    repos = runner.outputs["repo"]
    assert repos == {
        "url": f"{registry}/{names.image_repository('dev')}",
        "ui_url": f"{registry}/{names.ui_image_repository('dev')}",
    }
    runner.run(step(workflow, "Push the scanned images"))
    pushed = [args[1] for args in runner.calls("docker") if args[0] == "push"]
    assert pushed == [f"{repos['url']}:{sha}", f"{repos['url']}:{sha}-cuda", f"{repos['ui_url']}:{sha}"]
    digests = runner.outputs["push"]
    assert len(set(digests.values())) == 3 and all(promote.DIGEST.match(d) for d in digests.values())
    runner.run(step(workflow, "Pin the three digests"))
    assert {name: ref.value for name, ref in promote.environment_images(root, "dev").items()} == {
        "florai": digests["cpu"],
        "florai-cuda": digests["cuda"],
        "florai-ui": digests["ui"],
    }
    (commit,) = [args for args in runner.calls("git") if "commit" in args]
    assert commit[-2:] == [
        "apps/deploy/overlays/dev/kustomization.yaml",
        "apps/deploy/ui/overlays/dev/kustomization.yaml",
    ]
    assert ["push", "origin", "HEAD:main"] in runner.calls("git")
    assert f"florai-ui@{digests['ui']}" in runner.summary
