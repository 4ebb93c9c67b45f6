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
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@(v\d+(\.\d+){0,2}|\d+\.\d+\.\d+|[0-9a-f]{40})$")
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


def test_third_party_actions_are_pinned_to_a_version(workflows):
    used = [step["uses"] for *_, step in steps(workflows) if "uses" in step]
    used += [job["uses"] for *_, job in jobs(workflows) if "uses" in job]
    assert used
    for ref in used:
        if ref.startswith("./"):
            assert (ROOT / ref).is_file(), ref
        else:
            assert PINNED.match(ref), f"unpinned action {ref}"


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
    assert "--commit" in job["steps"][pin]["run"] and job["permissions"]["contents"] == "write"


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
    assert pr["with"]["add-paths"] == "apps/deploy/overlays/${{ inputs.target }}/kustomization.yaml"
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
    stack_job = workflows["pulumi-stack.yml"]["jobs"]["pulumi"]
    # `up` runs in the environment named after the stack (protected: staging, prod); previews elsewhere.
    assert stack_job["environment"].startswith("${{ inputs.command == 'up' && inputs.stack ||")
    run = next(s["run"] for s in stack_job["steps"] if 'pulumi "$COMMAND"' in s.get("run", ""))
    assert "--policy-pack platform/policy-pack" in run
    assert (ROOT / "platform" / "policy-pack" / "PulumiPolicy.yaml").is_file()


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
