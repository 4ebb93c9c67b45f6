"""What the rendered environments take from the stack beside the bridge values (tests/gitops/test_bridge.py):
the WAF rule's body limit, the GPU node groups' labels and taints, the images pinned by digest."""

from __future__ import annotations

import functools
import re

import pytest

from florai import contract
from florai_gitops import manifests
from florai_infra import names
from florai_infra.offline.plan import Plan

REPO = manifests.REPO_ROOT
ENVS = manifests.ENVIRONMENTS


@functools.cache
def plan(env: str) -> Plan:
    return Plan.loads((REPO / "platform" / "plans" / f"{env}.json").read_text())


def one(env: str, kind: str, name: str) -> dict:
    (found,) = [o for o in manifests.rendered(env) if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def workloads(env: str) -> list[dict]:
    return [o for o in manifests.rendered(env) if o["kind"] in ("Deployment", "Rollout")]


@pytest.mark.parametrize("env", ENVS)
def test_inference_workloads_run_as_the_inference_service_account(env):
    account = one(env, "ServiceAccount", names.INFERENCE.name)
    assert account["metadata"]["namespace"] == names.INFERENCE.namespace
    for w in workloads(env):
        assert w["metadata"]["namespace"] == names.NAMESPACE_APPS
        if w["metadata"]["name"] != names.BACKUP_EXPORTER.name:
            assert w["spec"]["template"]["spec"]["serviceAccountName"] == names.INFERENCE.name


@pytest.mark.parametrize("env", ENVS)
def test_ingress_serves_https_to_pod_ips(env):
    annotations = one(env, "Ingress", "florai")["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert "HTTPS" in annotations["alb.ingress.kubernetes.io/listen-ports"]
    assert annotations["alb.ingress.kubernetes.io/ssl-redirect"] == "443"


def waf_body_size_regex(env: str) -> re.Pattern:
    (acl,) = plan(env).by_type("aws:wafv2/webAcl:WebAcl")
    (rule,) = [r for r in acl.inputs["rules"] if r["name"] == "request-body-too-large"]
    statement = rule["statement"]["regexMatchStatement"]
    assert statement["fieldToMatch"]["singleHeader"]["name"].lower() == "content-length"
    return re.compile(statement["regexString"])


@pytest.mark.parametrize("env", ENVS)
def test_upload_limit_matches_the_app_and_the_waf_rule(env):
    declared = one(env, "Ingress", "florai")["metadata"]["annotations"]["florai.io/max-request-bytes"]
    assert int(declared) == contract.MAX_REQUEST_BYTES
    blocks = waf_body_size_regex(env)
    # The WAF blocks exactly the Content-Length values above the declared limit.
    assert not blocks.fullmatch(str(int(declared)))
    assert not blocks.fullmatch(str(int(declared) - 1))
    assert blocks.fullmatch(str(int(declared) + 1))
    assert blocks.fullmatch(str(int(declared) * 10))


@pytest.mark.parametrize("env", ENVS)
def test_gpu_workloads_match_the_gpu_node_groups(env):
    gpu_groups = [
        g
        for g in plan(env).by_type("aws:eks/nodeGroup:NodeGroup")
        if g.inputs["labels"].get("nvidia.com/gpu.present")
    ]
    assert gpu_groups, "every stack has a GPU node group"
    on_gpu = [w for w in workloads(env) if "nodeSelector" in w["spec"]["template"]["spec"]]
    assert len(on_gpu) == (0 if env == "dev" else sum(s.gpu for s in contract.SERVICES))
    for w in on_gpu:
        pod = w["spec"]["template"]["spec"]
        for group in gpu_groups:
            labels = group.inputs["labels"]
            assert all(labels.get(k) == v for k, v in pod["nodeSelector"].items())
            for taint in group.inputs["taints"]:
                effect = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute"}[taint["effect"]]
                assert any(
                    t["key"] == taint["key"] and t.get("value") == taint["value"] and t["effect"] == effect
                    for t in pod["tolerations"]
                ), (w["metadata"]["name"], taint)


@pytest.mark.parametrize("env", ENVS)
def test_no_placeholder_survives_rendering(env):
    text = manifests.to_yaml(manifests.rendered(env))
    assert "set-by-bridge" not in text
