"""checkov over every rendered environment (all Argo CD syncs from apps/deploy: the API, the web UI, the
cluster-wide objects) and the other delivery folders (one run), and every Dockerfile CI builds."""

from __future__ import annotations

import pytest
import yaml

from florai_gitops import manifests, validate


@pytest.fixture(scope="module")
def report() -> dict:
    named = {f"apps-{env}": manifests.rendered_everything(env) for env in manifests.ENVIRONMENTS}
    return validate.checkov_manifests(named | validate.delivery_objects())


def test_checkov_finds_no_failed_check_in_the_manifests(report):
    failed = [f"{c['check_id']} {c['resource']} ({c['check_name']})" for c in report["failed"]]
    assert failed == []
    assert report["parsing_errors"] == []
    # Rollouts are scanned as Deployments: the pod checks cover staging and prod too.
    resources = {c["resource"] for c in report["passed"]}
    for service in ("identify", "diagnose", "growth-stage", "consent", "ui"):
        assert sum(r == f"Deployment.florai.florai-{service}" for r in resources) >= 1
    assert len(report["passed"]) > 300


def test_every_skip_carries_its_reason(report):
    assert report["skipped"], "the documented skips are seen by checkov"
    for check in report["skipped"]:
        reason = check.get("check_result", {}).get("suppress_comment", "")
        assert len(reason.split()) >= 5, check["check_id"]


def test_every_dockerfile_the_image_workflow_builds_is_checked():
    workflow = yaml.safe_load((validate.REPO_ROOT / ".github" / "workflows" / "image.yml").read_text())
    built = {
        validate.REPO_ROOT / s["with"]["file"]
        for job in workflow["jobs"].values()
        for s in job["steps"]
        if s.get("uses", "").startswith("docker/build-push-action@")
    }
    assert built == set(validate.DOCKERFILES)


@pytest.mark.parametrize("dockerfile", validate.DOCKERFILES, ids=lambda p: p.parent.name)
def test_checkov_finds_no_failed_check_in_the_dockerfiles(dockerfile):
    docker = validate.run_checkov("dockerfile", dockerfile)
    assert [c["check_id"] for c in docker["failed"]] == []
    assert len(docker["passed"]) > 10


def test_rollout_is_scanned_as_a_deployment():
    (rollout, *_) = [o for o in manifests.rendered("prod") if o["kind"] == "Rollout"]
    view = validate.checkov_view(rollout)
    assert (view["apiVersion"], view["kind"]) == ("apps/v1", "Deployment")
    assert view["spec"]["template"] == rollout["spec"]["template"] and "strategy" not in view["spec"]
