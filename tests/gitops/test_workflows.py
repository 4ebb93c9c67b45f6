"""The GitHub workflows: parse, least privilege, OIDC instead of keys, pinned actions, nothing secret
printed, and every make target, module and path they name exists in this repository."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from florai_gitops import appsets, promote

ROOT = appsets.REPO_ROOT
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
STACKS = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))
# `uses: owner/repo@<commit> # <tag>`: a tag can be moved to other code, a commit cannot.
USES_LINE = re.compile(r"^\s*(?:- )?uses:\s*(?P<ref>\S+)(?P<comment>.*)$", re.M)
PINNED = re.compile(r"^(?P<repo>[\w.-]+/[\w.-]+)(?:/[\w./-]+)?@(?P<sha>[0-9a-f]{40})$")
TAG_COMMENT = re.compile(r"^\s*#\s*(?P<tag>v?\d+\.\d+\.\d+)\s*$")
PINS = yaml.safe_load((ROOT / "platform" / "upstream" / "github-actions" / "pins.yaml").read_text())[
    "actions"
]
MAKE_CALL = re.compile(r"\bmake\s+([a-z][a-z-]*)")
MODULE_CALL = re.compile(r"python\s+-m\s+([\w.]+)")
REPO_PATH = re.compile(
    r"(?<![\w/.-])((?:apps|platform|argocd|alerts|dashboards|tests|\.ci|\.github)/[\w./-]*[\w/])"
)


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the bare key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


@pytest.fixture(scope="module")
def workflows() -> dict[str, dict]:
    return {p.name: load(p) for p in FILES}


def jobs(workflows):
    for name, wf in workflows.items():
        for job_id, job in wf["jobs"].items():
            yield name, wf, job_id, job


def steps(workflows):
    for name, wf, job_id, job in jobs(workflows):
        for step in job.get("steps", []):
            yield name, wf, job_id, job, step


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.M))


def test_every_workflow_parses_with_triggers_and_read_only_defaults(workflows):
    assert {"ci.yml", "image.yml", "promote.yml", "infra.yml", "pulumi-stack.yml"} <= set(workflows)
    for name, wf in workflows.items():
        assert wf["on"], name
        # The default token is read-only; jobs ask for more one by one.
        writes = {k for k, v in wf["permissions"].items() if v == "write"}
        assert writes <= {"id-token"}, f"{name}: workflow-wide write permissions {writes}"


def unpinned_actions(text: str) -> list[str]:
    """Every `uses:` of a workflow text that is not `owner/repo@<commit sha> # vX.Y.Z` of pins.yaml."""
    bad = []
    for line in USES_LINE.finditer(text):
        ref, comment = line["ref"], line["comment"]
        if ref.startswith("./"):
            continue
        pinned, tag = PINNED.match(ref), TAG_COMMENT.match(comment)
        pin = PINS.get(pinned["repo"]) if pinned else None
        if not (pinned and tag and pin and pin["sha"] == pinned["sha"] and pin["tag"] == tag["tag"]):
            bad.append(f"{ref}{comment}")
    return bad


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_sha_with_its_tag(path):
    # Every workflow file, whoever edits it: a job with id-token: write can assume a deploy role.
    assert unpinned_actions(path.read_text()) == []
    for ref in re.findall(r"uses:\s*(\./\S+)", path.read_text()):
        assert (ROOT / ref).is_file(), ref


def test_the_pin_check_catches_tags_and_wrong_comments():
    sha = PINS["actions/checkout"]["sha"]
    tag = PINS["actions/checkout"]["tag"]
    assert unpinned_actions(f"      - uses: actions/checkout@{sha} # {tag}\n") == []
    assert unpinned_actions("      - uses: actions/checkout@v4\n")
    assert unpinned_actions(f"      - uses: actions/checkout@{sha}\n")  # no tag comment
    assert unpinned_actions(f"      - uses: actions/checkout@{sha} # v0.0.1\n")  # comment lies
    assert unpinned_actions(f"      - uses: someone/else@{sha} # {tag}\n")  # not in pins.yaml


def test_aws_access_is_oidc_only(workflows):
    text = "\n".join(p.read_text() for p in FILES)
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    aws_steps = [
        s
        for *_, s in steps(workflows)
        if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
    ]
    assert len(aws_steps) >= 3  # image push, promotion copy, pulumi
    for name, _, job_id, job, step in steps(workflows):
        if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@"):
            assert step["with"]["role-to-assume"].startswith("${{"), (name, job_id)
            assert job["permissions"]["id-token"] == "write", (name, job_id)


def test_no_secret_reaches_a_shell_and_nothing_traces_commands(workflows):
    for name, _, job_id, _, step in steps(workflows):
        script = step.get("run", "")
        assert "secrets." not in script, (name, job_id, step.get("name"))
        assert not re.search(r"\bset\s+-[a-z]*x", script), (
            name,
            job_id,
            "set -x prints every expanded value",
        )
        assert "${{ inputs." not in script and "${{ github.head_ref" not in script, (name, job_id, "use env:")


def test_jobs_ask_only_for_what_they_use(workflows):
    for name, _, job_id, job in jobs(workflows):
        perms = job.get("permissions", {})
        writes = {k for k, v in perms.items() if v == "write"}
        assert writes <= {"contents", "id-token", "pull-requests"}, (name, job_id, writes)
        if "id-token" in writes and "uses" not in job:
            text = json.dumps(job)
            assert "configure-aws-credentials" in text or "auth-actions" in text, (name, job_id)


def test_every_make_target_called_exists(workflows):
    targets = makefile_targets()
    called = {t for *_, s in steps(workflows) for t in MAKE_CALL.findall(s.get("run", ""))}
    assert {"preview", "diff-manifests", "venv"} <= called
    assert called <= targets, called - targets


def test_every_module_and_path_named_exists(workflows):
    modules = {m for *_, s in steps(workflows) for m in MODULE_CALL.findall(s.get("run", ""))} - {"pip"}
    assert "florai_gitops.promote" in modules
    for module in modules:
        assert importlib.util.find_spec(module) is not None, module
    for path in FILES:
        for ref in REPO_PATH.findall(path.read_text()):
            if "${{" in ref or "*" in ref:
                continue
            assert (ROOT / ref).exists(), f"{path.name} names {ref}"
    overlays = {p.parent.name for p in (ROOT / promote.OVERLAYS).glob("*/kustomization.yaml")}
    assert {"dev", "staging", "prod"} <= overlays


def test_pull_requests_run_lint_tests_every_preview_and_the_manifest_diff(workflows):
    ci = workflows["ci.yml"]
    assert "pull_request" in ci["on"]
    assert any("bash .ci/run" in s.get("run", "") for s in ci["jobs"]["test"]["steps"])
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert sorted(ci["jobs"]["preview"]["strategy"]["matrix"]["stack"]) == STACKS
    diff_job = ci["jobs"]["manifests-diff"]
    scripts = "\n".join(s.get("run", "") for s in diff_job["steps"])
    assert 'make diff-manifests BASE="origin/${BASE_REF}"' in scripts
    assert any(s.get("env", {}).get("BASE_REF") == "${{ github.base_ref }}" for s in diff_job["steps"])
    assert diff_job["steps"][0]["with"]["fetch-depth"] == 0
    for job_id in ("preview", "manifests-diff"):
        assert "GITHUB_STEP_SUMMARY" in json.dumps(ci["jobs"][job_id]), job_id


def test_merge_builds_scans_pushes_then_pins_dev(workflows):
    image = workflows["image.yml"]
    assert image["on"]["push"]["branches"] == ["main"]
    assert "!apps/deploy/**" in image["on"]["push"]["paths"], "the promotion commit must not rebuild"
    job = image["jobs"]["build-scan-push"]
    order = [s.get("uses", s.get("name", "")).split("@")[0] for s in job["steps"]]
    scan = order.index("aquasecurity/trivy-action")
    push = next(i for i, s in enumerate(job["steps"]) if "docker push" in s.get("run", ""))
    pin = next(
        i for i, s in enumerate(job["steps"]) if "florai_gitops.promote --env dev --image" in s.get("run", "")
    )
    assert scan < push < pin
    trivy = job["steps"][scan]["with"]
    assert trivy["exit-code"] == "1" and trivy["ignore-unfixed"] is True
    assert set(trivy["severity"].split(",")) == {"HIGH", "CRITICAL"}
    build = next(s for s in job["steps"] if s.get("uses", "").startswith("docker/build-push-action@"))
    assert (ROOT / build["with"]["context"]).is_dir() and (ROOT / build["with"]["file"]).is_file()
    # The pin is pushed with the deploy bot's token (a GitHub App allowed past main's protection),
    # so the workflow's own GITHUB_TOKEN only reads.
    assert "--commit" in job["steps"][pin]["run"] and job["permissions"]["contents"] == "read"
    bot = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/create-github-app-token@"))
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["token"] == "${{ steps." + bot["id"] + ".outputs.token }}"


def test_promotion_is_a_pull_request_per_target(workflows):
    for target in ("staging", "prod"):
        caller = workflows[f"promote-{target}.yml"]
        assert set(caller["on"]) == {"workflow_dispatch"} and not caller["on"]["workflow_dispatch"]
        (job,) = caller["jobs"].values()
        assert job["uses"] == "./.github/workflows/promote.yml" and job["with"] == {"target": target}
    job = workflows["promote.yml"]["jobs"]["open-pull-request"]
    scripts = "\n".join(s.get("run", "") for s in job["steps"])
    assert 'florai_gitops.promote --from "$SOURCE_ENV" --to "$TARGET"' in scripts
    assert "--commit" not in scripts, "the pull request carries the change, not a direct commit"
    pr = next(s for s in job["steps"] if s.get("uses", "").startswith("peter-evans/create-pull-request@"))
    assert pr["with"]["add-paths"].splitlines() == [
        f"{d.overlays.as_posix()}/${{{{ inputs.target }}}}/kustomization.yaml" for d in promote.DEPLOYABLES
    ]
    assert job["environment"] == "${{ inputs.target }}"


def test_pulumi_preview_on_pull_requests_and_up_on_main_behind_environments(workflows):
    infra = workflows["infra.yml"]
    assert {"pull_request", "push"} <= set(infra["on"]) and infra["on"]["push"]["branches"] == ["main"]
    infra_jobs = infra["jobs"]
    assert infra_jobs["preview"]["if"] == "github.event_name == 'pull_request'"
    assert sorted(infra_jobs["preview"]["strategy"]["matrix"]["stack"]) == STACKS
    assert infra_jobs["up-dev"]["if"] == "github.event_name == 'push'"
    assert infra_jobs["up-staging"]["needs"] == "up-dev" and infra_jobs["up-prod"]["needs"] == "up-staging"
    ups = {j["with"]["stack"] for j in infra_jobs.values() if j["with"]["command"] == "up"}
    assert ups == set(STACKS)
    stack_jobs = workflows["pulumi-stack.yml"]["jobs"]
    # The preview role's environment for plans; the stack's (protected: staging, prod) for `up`.
    assert stack_jobs["plan"]["environment"] == "${{ format('{0}-preview', inputs.stack) }}"
    assert stack_jobs["apply"]["environment"] == "${{ inputs.stack }}"
    for job in stack_jobs.values():
        run = next(s["run"] for s in job["steps"] if "pulumi " in s.get("run", "") and "--stack" in s["run"])
        assert "--policy-pack platform/policy-pack" in run
    assert (ROOT / "platform" / "policy-pack" / "PulumiPolicy.yaml").is_file()


def _step_runs(job) -> str:
    return "\n".join(s.get("run", "") for s in job["steps"])


def test_prod_applies_exactly_the_plan_its_approver_saw(workflows):
    plan, apply = (workflows["pulumi-stack.yml"]["jobs"][j] for j in ("plan", "apply"))
    assert "--save-plan pulumi-plan.json" in _step_runs(plan)
    assert "GITHUB_STEP_SUMMARY" in _step_runs(plan)  # the approver reads the plan in the run
    upload = next(s for s in plan["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert "pulumi-plan.json" in upload["with"]["path"]
    assert apply["needs"] == "plan" and apply["if"] == "inputs.command == 'up'"
    download = next(s for s in apply["steps"] if s.get("uses", "").startswith("actions/download-artifact@"))
    assert download["with"]["name"] == upload["with"]["name"]
    up = _step_runs(apply)
    assert "pulumi up" in up and "--plan pulumi-plan.json" in up
    assert "pulumi up" not in _step_runs(plan) and "--save-plan" not in up


def _groups(job) -> tuple[str, str]:
    concurrency = job["concurrency"]
    return str(concurrency["group"]), str(concurrency["cancel-in-progress"])


def test_previews_and_deploys_never_share_a_concurrency_group(workflows):
    plan, apply = (workflows["pulumi-stack.yml"]["jobs"][j] for j in ("plan", "apply"))
    plan_group, plan_cancel = _groups(plan)
    apply_group, apply_cancel = _groups(apply)
    # Evaluated for a pull request (preview) and for main (up): the groups differ by construction.
    assert "pulumi-preview-{0}-{1}" in plan_group and "pulumi-deploy-{0}" in plan_group
    assert apply_group == "${{ format('pulumi-deploy-{0}', inputs.stack) }}" and apply_cancel == "False"
    assert plan_cancel == "${{ inputs.command != 'up' }}"  # only previews are cancelled by newer ones
    infra_group, infra_cancel = _groups(workflows["infra.yml"])
    assert "'infra-deploy'" in infra_group and "infra-preview-{0}" in infra_group
    assert infra_cancel == "${{ github.event_name == 'pull_request' }}"


def test_a_shared_group_would_be_caught():
    shared = {"concurrency": {"group": "pulumi-${{ inputs.stack }}", "cancel-in-progress": False}}
    group, _ = _groups(shared)
    assert "pulumi-preview-" not in group and "pulumi-deploy-" not in group


def test_cluster_jobs_run_on_the_stacks_runners_inside_its_vpc(workflows):
    from florai_infra.components.ci_runner import runner_project_name

    project = runner_project_name("florai-${{ inputs.stack }}")
    for job in workflows["pulumi-stack.yml"]["jobs"].values():
        assert job["runs-on"] == f"codebuild-{project}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"


def test_promotion_pull_requests_are_opened_by_the_github_app(workflows):
    job = workflows["promote.yml"]["jobs"]["open-pull-request"]
    app = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/create-github-app-token@"))
    pr = next(s for s in job["steps"] if s.get("uses", "").startswith("peter-evans/create-pull-request@"))
    assert pr["with"]["token"] == f"${{{{ steps.{app['id']}.outputs.token }}}}"
    assert job["permissions"]["contents"] == "read"  # GITHUB_TOKEN writes nothing here


def test_checkov_github_actions_framework_passes():
    # checkov's pinned tool venv belongs to the manifests tooling; reuse it, never install a second one.
    from florai_gitops.validate import ensure_checkov

    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "WARNING"}
    done = subprocess.run(
        [
            str(ensure_checkov()),
            "-d",
            str(WORKFLOWS),
            "--framework",
            "github_actions",
            "-o",
            "json",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    report = json.loads(done.stdout)
    summary = report["summary"]
    assert summary["passed"] > 0
    assert summary["failed"] == 0, [c["check_id"] for c in report["results"]["failed_checks"]]
