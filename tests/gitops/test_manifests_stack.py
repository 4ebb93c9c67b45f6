"""Per-environment values in the overlays equal the stack's (platform/plans/<env>.json, Pulumi.<env>.yaml).

The overlays carry these values as plain patches (overlays/<env>/stack-outputs.yaml, vpc-cidr*.yaml,
images:); after a stack change, copy the new outputs there and these tests pass again.
"""

from __future__ import annotations

import functools
import re

import pytest
import yaml

from florai import contract
from florai_gitops import manifests
from florai_infra import names
from florai_infra.offline.plan import Plan

REPO = manifests.REPO_ROOT
ENVS = manifests.ENVIRONMENTS


@functools.cache
def plan(env: str) -> Plan:
    return Plan.loads((REPO / "platform" / "plans" / f"{env}.json").read_text())


@functools.cache
def stack_config(env: str) -> dict:
    return yaml.safe_load((REPO / f"Pulumi.{env}.yaml").read_text())["config"]


def one(env: str, kind: str, name: str) -> dict:
    (found,) = [o for o in manifests.rendered(env) if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def workloads(env: str) -> list[dict]:
    return [o for o in manifests.rendered(env) if o["kind"] in ("Deployment", "Rollout")]


@pytest.mark.parametrize("env", ENVS)
def test_images_come_from_the_stack_registry_with_a_pinned_tag(env):
    repository = plan(env).outputs["ecrRepositoryUrl"]
    images = {c["image"] for w in workloads(env) for c in w["spec"]["template"]["spec"]["containers"]}
    assert len(images) == 1, "one image for every service"
    (image,) = images
    name, sep, tag = image.rpartition(":")
    assert name == repository and sep and tag and tag != "latest"
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag)


@pytest.mark.parametrize("env", ENVS)
def test_inference_service_account_assumes_the_stack_role(env):
    account = one(env, "ServiceAccount", names.INFERENCE.name)
    assert account["metadata"]["namespace"] == names.INFERENCE.namespace
    role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert role == plan(env).outputs["roleArns"][names.INFERENCE.key]
    for w in workloads(env):
        assert w["metadata"]["namespace"] == names.NAMESPACE_APPS
        if w["metadata"]["name"] != names.BACKUP_EXPORTER.name:
            assert w["spec"]["template"]["spec"]["serviceAccountName"] == names.INFERENCE.name


@pytest.mark.parametrize("env", ENVS)
def test_backup_exporter_assumes_its_stack_role_and_watches_the_stack_database(env):
    account = one(env, "ServiceAccount", names.BACKUP_EXPORTER.name)
    assert account["metadata"]["namespace"] == names.BACKUP_EXPORTER.namespace
    role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert role == plan(env).outputs["roleArns"][names.BACKUP_EXPORTER.key]
    exporter = one(env, "Deployment", names.BACKUP_EXPORTER.name)
    pod = exporter["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == names.BACKUP_EXPORTER.name
    (container,) = pod["containers"]
    env_vars = {e["name"]: e.get("value") for e in container["env"]}
    (database,) = plan(env).by_type("aws:rds/instance:Instance")
    assert env_vars["FLORAI_BACKUP_DB_INSTANCES"] == database.inputs["identifier"]
    assert f"{database.inputs['identifier']}." in plan(env).outputs["databaseEndpoint"]


@pytest.mark.parametrize("env", ENVS)
def test_ingress_carries_the_stack_waf_acl(env):
    annotations = one(env, "Ingress", "florai")["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/wafv2-acl-arn"] == plan(env).outputs["wafAclArn"]
    assert annotations["alb.ingress.kubernetes.io/group.name"] == names.resource_prefix(env)
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
def test_external_secrets_read_the_stack_secrets_and_endpoints(env):
    outputs = plan(env).outputs
    database = one(env, "ExternalSecret", "florai-database")["spec"]
    assert {d["remoteRef"]["key"] for d in database["data"]} == {outputs["databaseSecretArn"]}
    assert f"@{outputs['databaseEndpoint']}/" in database["target"]["template"]["data"]["DATABASE_URL"]
    redis = one(env, "ExternalSecret", "florai-redis")["spec"]
    assert {d["remoteRef"]["key"] for d in redis["data"]} == {outputs["redisAuthSecretArn"]}
    assert f"@{outputs['redisEndpoint']}:6379/" in redis["target"]["template"]["data"]["REDIS_URL"]
    keys = one(env, "ExternalSecret", "florai-app-keys")["spec"]
    assert all(d["remoteRef"]["key"].startswith(names.secret_prefix(env)) for d in keys["data"])
    store = one(env, "ClusterSecretStore", "florai-aws-secrets-manager")["spec"]["provider"]["aws"]
    assert store == {"service": "SecretsManager", "region": outputs["awsRegion"]}


@pytest.mark.parametrize("env", ENVS)
def test_config_map_points_at_the_stack_bucket_and_region(env):
    data = one(env, "ConfigMap", "florai-config")["data"]
    bucket = plan(env).outputs["modelBucketName"]
    assert data["FLORAI_MODELS_DIR"] == f"s3://{bucket}/models"
    assert data["FLORAI_IMAGE_STORE_URI"].startswith(f"s3://{bucket}/")
    assert data["AWS_REGION"] == plan(env).outputs["awsRegion"]


@pytest.mark.parametrize("env", ENVS)
def test_no_placeholder_survives_rendering(env):
    text = manifests.to_yaml(manifests.rendered(env))
    assert "set-by-overlay" not in text


@pytest.mark.parametrize("env", ENVS)
def test_vpc_scoped_policies_use_the_stack_vpc_cidr(env):
    cidr = stack_config(env)["florai:vpcCidr"]
    alb = one(env, "NetworkPolicy", "allow-ingress-from-alb")["spec"]["ingress"][0]["from"][0]["ipBlock"]
    data = one(env, "NetworkPolicy", "allow-egress-database-and-cache")["spec"]["egress"][0]["to"][0][
        "ipBlock"
    ]
    assert alb["cidr"] == data["cidr"] == cidr
