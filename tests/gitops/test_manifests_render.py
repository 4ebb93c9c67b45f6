"""`florai_gitops.manifests`: every overlay renders; render from a git ref; the per-environment diff."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from florai_gitops import manifests
from florai_infra import names

SERVICES = ("identify", "diagnose", "growth-stage", "consent")
BACKUP_EXPORTER = "florai-backup-exporter"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def deploy_repo(tmp_path_factory) -> Path:
    """A throwaway git repo holding a copy of apps/deploy and argocd, committed once."""
    root = tmp_path_factory.mktemp("repo")
    for folder in (manifests.DEPLOY_DIR, names.GITOPS_ROOT_PATH):
        shutil.copytree(manifests.REPO_ROOT / folder, root / folder)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "base")
    return root


@pytest.mark.parametrize("env", manifests.ENVIRONMENTS)
def test_every_environment_renders_the_four_workloads(env):
    objects = manifests.rendered(env)
    workload_kind = "Deployment" if env == "dev" else "Rollout"
    workloads = {o["metadata"]["name"] for o in objects if o["kind"] == workload_kind}
    assert workloads - {BACKUP_EXPORTER} == {f"florai-{s}" for s in SERVICES}
    # The backup-age exporter is a plain Deployment in every environment, never a canary.
    other = {
        o["metadata"]["name"] for o in objects if o["kind"] == ("Rollout" if env == "dev" else "Deployment")
    }
    assert other == (set() if env == "dev" else {BACKUP_EXPORTER})
    assert BACKUP_EXPORTER in {o["metadata"]["name"] for o in objects if o["kind"] == "Deployment"}
    assert list(objects) == manifests.sort_objects(objects)


def test_render_from_a_ref_equals_the_same_tree(deploy_repo):
    assert manifests.render("prod", "HEAD", deploy_repo) == manifests.render("prod", None, deploy_repo)


def test_ref_without_the_deploy_folder_renders_nothing(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "README").write_text("x\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "empty")
    assert manifests.render("dev", "HEAD", tmp_path) == []


def test_unknown_ref_is_a_clear_error(deploy_repo):
    with pytest.raises(manifests.RenderError, match="not-a-ref"):
        manifests.render("dev", "not-a-ref", deploy_repo)


def test_diff_shows_a_promotion_as_its_image_lines_only(deploy_repo):
    kustomization = deploy_repo / manifests.DEPLOY_DIR / "overlays" / "staging" / "kustomization.yaml"
    original = kustomization.read_text()
    digest = next(line.split(":", 1)[1].strip() for line in original.splitlines() if "digest:" in line)
    new_digest = "sha256:" + "0123456789abcdef" * 4
    on_it = [
        o
        for o in manifests.render("staging", None, deploy_repo)
        if o["kind"] in ("Deployment", "Rollout")
        and digest in o["spec"]["template"]["spec"]["containers"][0]["image"]
    ]
    try:
        kustomization.write_text(original.replace(f"digest: {digest}", f"digest: {new_digest}"))
        diffs = manifests.diff("HEAD", root=deploy_repo)
    finally:
        kustomization.write_text(original)
    assert diffs["dev"] == "" and diffs["prod"] == ""
    changed = [
        line for line in diffs["staging"].splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    # One image line per workload running that image (the CPU services and the backup exporter).
    assert on_it and len(changed) == 2 * len(on_it)
    assert all(line.strip("+- ").startswith("image: ") for line in changed)
    assert sum(f"@{new_digest}" in line for line in changed if line.startswith("+")) == len(on_it)


def test_cli_render_writes_every_environment(tmp_path, capsys):
    assert manifests.main(["render", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for env in manifests.ENVIRONMENTS:
        text = (tmp_path / f"{env}.yaml").read_text()
        everything = manifests.rendered_everything(env)
        assert text == manifests.to_yaml(everything)
        assert f"{env}: {len(everything)} objects" in out
        # What Argo CD syncs from apps/deploy: the API's overlay, the web UI's, the cluster-wide objects.
        names_of = {(o["kind"], o["metadata"]["name"]) for o in everything}
        assert {(o["kind"], o["metadata"]["name"]) for o in manifests.rendered(env)} < names_of
        assert ("Ingress", "florai-ui") in names_of and ("StorageClass", "gp3") in names_of


def test_cli_diff_prints_no_changes_against_the_work_tree_itself(monkeypatch, deploy_repo, capsys):
    monkeypatch.setattr(manifests, "REPO_ROOT", deploy_repo)
    assert manifests.main(["diff", "--base", "HEAD"]) == 0
    assert capsys.readouterr().out.count(manifests.NO_CHANGES) == len(manifests.ENVIRONMENTS)


def test_diff_shows_a_web_ui_promotion_as_its_image_line(deploy_repo):
    """Pull requests see the UI's rendered change too (make diff-manifests renders every Application
    under apps/deploy), not only the API's."""
    kustomization = deploy_repo / manifests.DEPLOY_DIR / "ui" / "overlays" / "prod" / "kustomization.yaml"
    original = kustomization.read_text()
    digest = next(line.split(":", 1)[1].strip() for line in original.splitlines() if "digest:" in line)
    new_digest = "sha256:" + "fedcba9876543210" * 4
    try:
        kustomization.write_text(original.replace(f"digest: {digest}", f"digest: {new_digest}"))
        diffs = manifests.diff("HEAD", root=deploy_repo)
    finally:
        kustomization.write_text(original)
    assert diffs["dev"] == "" and diffs["staging"] == ""
    changed = [
        line.strip("+- ")
        for line in diffs["prod"].splitlines()
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert len(changed) == 2 and all(line.startswith("image: ") for line in changed)
    # The registry stays the bridge's placeholder in git; the digest is the overlay's.
    assert changed[0].endswith(f"ui_ecr_repository_url}}}}@{digest}'")
    assert changed[1].endswith(f"ui_ecr_repository_url}}}}@{new_digest}'")
