"""Promotion changes one line of one overlay, byte for byte, and refuses what must not run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from florai_gitops import appsets, promote
from florai_gitops.promote import ImageRef, PromotionError

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "0123456789abcdef" * 4
REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/florai-dev/inference"
# Comments, quoting and a trailing block that a YAML round trip would rewrite: the script must not.
SAMPLE = f"""# dev overlay
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
images:
  - name: sidecar
    newTag: "1.2.3"
  - name: florai
    newName: {REPO}  # the dev repository
    newTag: 'sha-c048c60'
patches:
  - path: stack-outputs.yaml   # keep me
"""


def changed_lines(diff: str) -> list[str]:
    return [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def make_root(tmp_path: Path, overlays: dict[str, str]) -> Path:
    for env, text in overlays.items():
        path = tmp_path / promote.OVERLAYS / env / promote.KUSTOMIZATION
        path.parent.mkdir(parents=True)
        path.write_bytes(text.encode())
    return tmp_path


def overlay_text(root: Path, env: str) -> str:
    return (root / promote.OVERLAYS / env / promote.KUSTOMIZATION).read_bytes().decode()


def test_digest_replaces_the_tag_line_and_nothing_else(tmp_path):
    root = make_root(tmp_path, {"dev": SAMPLE})
    diff = promote.promote(root, "dev", ImageRef.digest(DIGEST_A), repository=REPO)
    assert changed_lines(diff) == ["-    newTag: 'sha-c048c60'", f"+    digest: {DIGEST_A}"]
    assert overlay_text(root, "dev") == SAMPLE.replace("newTag: 'sha-c048c60'", f"digest: {DIGEST_A}")


def test_promotion_is_idempotent(tmp_path):
    root = make_root(tmp_path, {"dev": SAMPLE})
    assert promote.promote(root, "dev", ImageRef.digest(DIGEST_A)) != ""
    after_first = overlay_text(root, "dev")
    assert promote.promote(root, "dev", ImageRef.digest(DIGEST_A)) == ""
    assert overlay_text(root, "dev") == after_first


def test_tag_then_digest_then_new_digest_each_change_one_line(tmp_path):
    root = make_root(tmp_path, {"dev": SAMPLE})
    for ref in (ImageRef.tag("sha-1f2e3d4"), ImageRef.digest(DIGEST_A), ImageRef.digest(DIGEST_B)):
        diff = promote.promote(root, "dev", ref)
        assert len(changed_lines(diff)) == 2 and changed_lines(diff)[1].endswith(ref.value)
    assert overlay_text(root, "dev").count("sha256:") == 1
    assert '  - name: sidecar\n    newTag: "1.2.3"\n' in overlay_text(root, "dev")


def test_crlf_files_and_entries_without_a_reference(tmp_path):
    text = "images:\r\n- name: florai\r\n  newName: r/x\r\nresources: [a.yaml]\r\n"
    root = make_root(tmp_path, {"dev": text})
    diff = promote.promote(root, "dev", ImageRef.digest(DIGEST_A))
    assert changed_lines(diff) == [f"+  digest: {DIGEST_A}"]
    assert (
        overlay_text(root, "dev")
        == f"images:\r\n- name: florai\r\n  newName: r/x\r\n  digest: {DIGEST_A}\r\nresources: [a.yaml]\r\n"
    )


def test_from_to_copies_the_exact_source_digest(tmp_path):
    prod = SAMPLE.replace("florai-dev", "florai-prod").replace("'sha-c048c60'", DIGEST_B)
    root = make_root(tmp_path, {"staging": SAMPLE.replace("'sha-c048c60'", DIGEST_A), "prod": prod})
    assert promote.main(["--root", str(root), "--from", "staging", "--to", "prod"]) == 0
    assert overlay_text(root, "prod") == prod.replace(DIGEST_B, DIGEST_A)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env", "dev", "--tag", "latest"], "refusing tag 'latest'"),
        (["--env", "dev", "--tag", "LATEST"], "refusing tag 'latest'"),
        (["--env", "dev", "--tag=-bad"], "not a valid image tag"),
        (["--env", "dev", "--digest", "sha256:abc"], "not an image digest"),
        (["--env", "dev", "--image", f"{REPO}:v1"], "--image wants [<name>=]<repository>@sha256"),
        (["--env", "dev", "--image", f"florai-gpu={REPO}@{DIGEST_A}"], "unknown image name 'florai-gpu'"),
        (
            ["--env", "dev", "--image", f"{REPO}@{DIGEST_A}", "--image", f"florai={REPO}@{DIGEST_B}"],
            "each image name once",
        ),
        (["--env", "dev", "--image", f"other/repo@{DIGEST_A}"], "copy the image there first"),
        (["--env", "qa", "--digest", DIGEST_A], "no overlay for environment 'qa'"),
        (["--from", "dev"], "--from and --to go together"),
        (["--env", "dev"], "give --env with"),
    ],
)
def test_errors_are_one_clear_line(tmp_path, capsys, argv, message):
    root = make_root(tmp_path, {"dev": SAMPLE})
    assert promote.main(["--root", str(root), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert overlay_text(root, "dev") == SAMPLE


def test_a_tag_never_silently_drops_a_pinned_digest_and_tag_pair(tmp_path):
    text = SAMPLE.replace("    newTag: 'sha-c048c60'\n", f"    newTag: v1\n    digest: {DIGEST_A}\n")
    root = make_root(tmp_path, {"dev": text})
    with pytest.raises(PromotionError, match="pins a digest and a tag"):
        promote.promote(root, "dev", ImageRef.tag("v2"))
    assert changed_lines(promote.promote(root, "dev", ImageRef.digest(DIGEST_B))) == [
        f"-    digest: {DIGEST_A}",
        f"+    digest: {DIGEST_B}",
    ]


def test_missing_image_entry_is_an_error(tmp_path):
    root = make_root(tmp_path, {"dev": "resources: [a.yaml]\nimages:\n- name: other\n  newTag: v1\n"})
    with pytest.raises(PromotionError, match="named 'florai'"):
        promote.promote(root, "dev", ImageRef.tag("v2"))


def test_commit_records_one_file_with_a_conventional_message(tmp_path):
    root = make_root(tmp_path, {"dev": SAMPLE, "prod": SAMPLE})
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    # The script commits with the repository's identity, as CI configures it.
    subprocess.run(["git", "-C", str(root), "config", "user.name", "t"], check=True)
    subprocess.run(["git", "-C", str(root), "config", "user.email", "t@example.com"], check=True)
    (root / "unrelated.txt").write_text("staged by someone else\n")
    subprocess.run([*git, "add", "unrelated.txt"], check=True)
    assert promote.main(["--root", str(root), "--env", "dev", "--digest", DIGEST_A, "--commit"]) == 0
    log = subprocess.run(
        [*git, "log", "-1", "--format=%s", "--name-only"], check=True, capture_output=True, text=True
    )
    subject, _, *files = log.stdout.strip().splitlines()
    assert subject == f"chore(deploy): promote dev to florai@{DIGEST_A}"
    assert files == ["apps/deploy/overlays/dev/kustomization.yaml"]


def test_module_entry_point_shows_what_an_environment_runs(tmp_path):
    root = make_root(tmp_path, {"dev": SAMPLE})
    run = subprocess.run(
        [sys.executable, "-m", "florai_gitops.promote", "--root", str(root), "--env", "dev", "--show"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert run.stdout == "florai:sha-c048c60\n"


@pytest.fixture
def real_overlays(tmp_path):
    shutil.copytree(appsets.REPO_ROOT / promote.OVERLAYS, tmp_path / promote.OVERLAYS)
    return tmp_path


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_real_overlays_change_one_line_per_image_pushed_to_the_stack_registry(real_overlays, env):
    before = overlay_text(real_overlays, env)
    # CI pushes to the ECR repository this stack creates (the bridge's ecr_repository_url).
    repository = appsets.load_cluster(env).annotations["ecr_repository_url"]
    assert promote.repository_matches(repository, env)
    assert not promote.repository_matches(repository.replace(f"florai-{env}/", "florai-other/"), env)
    refs = {promote.CPU_IMAGE: ImageRef.digest(DIGEST_A), promote.CUDA_IMAGE: ImageRef.digest(DIGEST_B)}
    diff = promote.promote(real_overlays, env, refs, repository=repository)
    assert len(changed_lines(diff)) == 4
    after = overlay_text(real_overlays, env)
    assert [ln.strip() for ln in after.splitlines() if ln not in before.splitlines()] == [
        f"digest: {DIGEST_A}",
        f"digest: {DIGEST_B}",
    ]
    assert promote.Overlay.find(real_overlays, env).images() == refs


def test_real_promotion_chain_dev_staging_prod_moves_both_images(real_overlays):
    refs = {promote.CPU_IMAGE: ImageRef.digest(DIGEST_B), promote.CUDA_IMAGE: ImageRef.digest(DIGEST_A)}
    promote.promote(real_overlays, "dev", refs)
    for source, target in (("dev", "staging"), ("staging", "prod")):
        assert promote.main(["--root", str(real_overlays), "--from", source, "--to", target]) == 0
    assert promote.Overlay.find(real_overlays, "prod").images() == refs


def test_ci_pins_both_images_in_one_commit(real_overlays, capsys):
    repository = appsets.load_cluster("dev").annotations["ecr_repository_url"]
    argv = ["--root", str(real_overlays), "--env", "dev", "--image", f"{repository}@{DIGEST_A}"]
    argv += ["--image", f"{promote.CUDA_IMAGE}={repository}@{DIGEST_B}"]
    assert promote.main(argv) == 0
    assert promote.main(["--root", str(real_overlays), "--env", "dev", "--show"]) == 0
    shown = capsys.readouterr().out.splitlines()[-2:]
    assert shown == [f"florai@{DIGEST_A}", f"florai-cuda@{DIGEST_B}"]
    assert promote.main(["--root", str(real_overlays), "--env", "dev", "--show-repository"]) == 0
    assert capsys.readouterr().out == "florai-dev/inference\n"
