"""Promotion changes one line of one overlay, byte for byte, and refuses what must not run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from florai_gitops import appsets, promote
from florai_gitops.promote import ImageRef, PromotionError
from florai_infra import names
from tests.gitops.workflow_runner import Runner, promotion_root, step

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "0123456789abcdef" * 4
DIGEST_C = "sha256:" + "c" * 64
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
    for deployable in promote.DEPLOYABLES:
        shutil.copytree(appsets.REPO_ROOT / deployable.overlays, tmp_path / deployable.overlays)
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


def test_real_promotion_chain_dev_staging_prod_moves_every_image(real_overlays):
    refs = {
        promote.CPU_IMAGE: ImageRef.digest(DIGEST_B),
        promote.CUDA_IMAGE: ImageRef.digest(DIGEST_A),
        promote.UI_IMAGE: ImageRef.digest(DIGEST_C),
    }
    promote.promote(real_overlays, "dev", refs)
    for source, target in (("dev", "staging"), ("staging", "prod")):
        assert promote.main(["--root", str(real_overlays), "--from", source, "--to", target]) == 0
    assert promote.environment_images(real_overlays, "prod") == refs
    assert promote.Overlay.find(real_overlays, "prod", promote.UI).images() == {
        promote.UI_IMAGE: ImageRef.digest(DIGEST_C)
    }


def test_ci_pins_every_image_in_one_call(real_overlays, capsys):
    bridge = appsets.load_cluster("dev").annotations
    repository, ui_repository = (
        bridge[names.BRIDGE_ECR_REPOSITORY_URL],
        bridge[names.BRIDGE_UI_ECR_REPOSITORY_URL],
    )
    argv = ["--root", str(real_overlays), "--env", "dev", "--image", f"{repository}@{DIGEST_A}"]
    argv += ["--image", f"{promote.CUDA_IMAGE}={repository}@{DIGEST_B}"]
    argv += ["--image", f"{promote.UI_IMAGE}={ui_repository}@{DIGEST_C}"]
    assert promote.main(argv) == 0
    assert promote.main(["--root", str(real_overlays), "--env", "dev", "--show"]) == 0
    shown = capsys.readouterr().out.splitlines()[-3:]
    assert shown == [f"florai@{DIGEST_A}", f"florai-cuda@{DIGEST_B}", f"florai-ui@{DIGEST_C}"]
    assert promote.main(["--root", str(real_overlays), "--env", "dev", "--show-repository"]) == 0
    assert capsys.readouterr().out == "florai-dev/inference\n"
    assert promote.main(["--root", str(real_overlays), "--env", "dev", "--show-repository", "florai-ui"]) == 0
    assert capsys.readouterr().out == "florai-dev/ui\n"


def test_each_deployable_maps_to_the_repository_and_bridge_annotation_the_program_writes():
    cluster = appsets.load_cluster("staging").annotations
    for deployable in promote.DEPLOYABLES:
        url = cluster[deployable.bridge_annotation]
        assert url.endswith("/" + deployable.repository("staging")), deployable.name
        assert promote.repository_matches(url, "staging", deployable)
    assert {d.repository("prod") for d in promote.DEPLOYABLES} == set(names.image_repositories("prod"))
    # Every image an overlay pins belongs to exactly one deployable, and every deployable's overlays
    # pin exactly its images.
    for deployable in promote.DEPLOYABLES:
        for env in ("dev", "staging", "prod"):
            path = appsets.REPO_ROOT / deployable.overlays / env / promote.KUSTOMIZATION
            pinned = [e["name"] for e in yaml.safe_load(path.read_text())["images"]]
            assert tuple(pinned) == deployable.images, (deployable.name, env)


def test_an_image_pushed_to_the_other_deployables_repository_is_refused(real_overlays, capsys):
    bridge = appsets.load_cluster("dev").annotations
    api_repository = bridge[names.BRIDGE_ECR_REPOSITORY_URL]
    argv = ["--root", str(real_overlays), "--env", "dev", "--image", f"florai-ui={api_repository}@{DIGEST_C}"]
    assert promote.main(argv) == 2
    err = capsys.readouterr().err
    assert "runs florai-ui from ECR repository 'florai-dev/ui'" in err and err.count("\n") == 1
    before = {name: ref for name, ref in promote.environment_images(real_overlays, "dev").items()}
    assert before[promote.UI_IMAGE] != ImageRef.digest(DIGEST_C)


def test_show_copies_names_each_images_source_and_target_repository(real_overlays, capsys):
    argv = ["--root", str(real_overlays), "--from", "staging", "--to", "prod", "--show-copies"]
    assert promote.main(argv) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    staging = promote.environment_images(real_overlays, "staging")
    assert lines == [
        [
            name,
            f"{promote.deployable_of(name).repository('staging')}@{ref.value}",
            promote.deployable_of(name).repository("prod"),
        ]
        for name, ref in staging.items()
    ]
    assert [line[0] for line in lines] == list(promote.IMAGE_NAMES)
    # Nothing was written: --show-copies only reads.
    assert promote.environment_images(real_overlays, "prod") == promote.environment_images(
        appsets.REPO_ROOT, "prod"
    )


def test_the_promote_workflow_copies_every_image_then_changes_one_line_each(tmp_path):
    """promote.yml's shell steps, run in order with docker recorded: each image is copied by digest from
    the source account's repository into the target's, then the target overlays take exactly those."""
    root = promotion_root(tmp_path)
    promote.promote(
        root,
        "dev",
        {
            promote.CPU_IMAGE: ImageRef.digest(DIGEST_A),
            promote.CUDA_IMAGE: ImageRef.digest(DIGEST_B),
            promote.UI_IMAGE: ImageRef.digest(DIGEST_C),
        },
    )
    workflow = yaml.safe_load((appsets.REPO_ROOT / ".github/workflows/promote.yml").read_text())
    job = workflow["jobs"]["open-pull-request"]
    source_account, target_account = "111111111111", "222222222222"
    runner = Runner(
        root,
        {
            "inputs": {"target": "staging"},
            "vars": {"SOURCE_AWS_ACCOUNT_ID": source_account, "AWS_ACCOUNT_ID": target_account},
            "env": workflow["env"],
            "github": {"GITHUB_RUN_ID": "777"},
        },
    )
    runner.run(step(job, "Source and target images"))
    runner.run(step(job, "Copy every image"))
    source = f"{source_account}.dkr.ecr.us-east-1.amazonaws.com"
    target = f"{target_account}.dkr.ecr.us-east-1.amazonaws.com"
    copied = [args for args in runner.calls("docker") if args[:2] == ["buildx", "imagetools"]]
    assert copied == [
        [
            "buildx",
            "imagetools",
            "create",
            "--tag",
            f"{target}/florai-staging/inference:promoted-florai-777",
            f"{source}/florai-dev/inference@{DIGEST_A}",
        ],
        [
            "buildx",
            "imagetools",
            "create",
            "--tag",
            f"{target}/florai-staging/inference:promoted-florai-cuda-777",
            f"{source}/florai-dev/inference@{DIGEST_B}",
        ],
        [
            "buildx",
            "imagetools",
            "create",
            "--tag",
            f"{target}/florai-staging/ui:promoted-florai-ui-777",
            f"{source}/florai-dev/ui@{DIGEST_C}",
        ],
    ]
    runner.run(step(job, "Change one line per image"))
    assert promote.environment_images(root, "staging") == promote.environment_images(root, "dev")
    pull_request = next(
        s for s in job["steps"] if s.get("uses", "").startswith("peter-evans/create-pull-request@")
    )
    changed = {
        line.removeprefix("+++ b/") for line in runner.summary.splitlines() if line.startswith("+++ b/")
    }
    assert changed == set(runner.fill(pull_request["with"]["add-paths"]).splitlines())
