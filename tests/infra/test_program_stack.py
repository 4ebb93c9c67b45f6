"""Whole-stack properties: components, required tags, KMS rotation, outputs, determinism, speed."""

from __future__ import annotations

import importlib
import inspect
import json
from functools import cache

import pytest

from florai_infra.offline.engine import run_stack
from florai_infra.tagging import REQUIRED_TAG_KEYS

COMPONENTS = {
    "florai:network:Network",
    "florai:security:Kms",
    "florai:cluster:Cluster",
    "florai:cluster:Addons",
    "florai:database:Database",
    "florai:cache:Cache",
    "florai:secrets:AppSecrets",
    "florai:edge:Waf",
    "florai:registry:Registry",
    "florai:storage:ModelStore",
    "florai:identity:ServiceRoles",
    "florai:identity:CiRoles",
    "florai:gitops:Bootstrap",
    "florai:edge:Certificate",
    "florai:logging:ContainerLogs",
    "florai:ci:CiRunner",  # every stack reaches its private API endpoint from runners in the VPC
    "florai:storage:AccessLogBucket",
}


@cache
def is_taggable(type_token: str) -> bool:
    """Whether the pulumi_aws resource class of ``type_token`` accepts ``tags``."""
    package, module, cls = type_token.split(":")
    mod = importlib.import_module(
        "pulumi_aws" if module.startswith("index/") else f"pulumi_aws.{module.split('/')[0]}"
    )
    return "tags" in inspect.signature(getattr(mod, cls)._internal_init).parameters


def test_every_taggable_aws_resource_carries_the_required_tags(plan):
    taggable = [r for r in plan.custom_resources if r.type.startswith("aws:") and is_taggable(r.type)]
    assert len(taggable) > 50
    for resource in taggable:
        tags = resource.inputs.get("tags") or {}
        missing = [k for k in REQUIRED_TAG_KEYS if not tags.get(k)]
        assert not missing, f"{resource.type} {resource.name} lacks {missing}"
        assert tags["environment"] == plan.stack


def test_one_component_per_concern_parents_every_resource(plan):
    dr = {"florai:dr:DisasterRecovery"} if "drRegion" in plan.outputs else set()  # optional in dev
    assert {r.type for r in plan.resources if r.is_component} == COMPONENTS | dr
    component_urns = {r.urn for r in plan.resources if r.is_component}
    for resource in plan.custom_resources:
        assert resource.parent in component_urns, resource.urn


def test_kms_keys_rotate_and_let_logs_use_the_log_key(plan):
    keys = plan.by_type("aws:kms/key:Key")
    assert {k.inputs["tags"]["purpose"] for k in keys} >= {"eks", "rds", "cache", "s3", "logs", "ebs"}
    assert all(k.inputs["enableKeyRotation"] is True for k in keys)
    log_key = next(k for k in keys if k.inputs["tags"]["purpose"] == "logs")
    statements = json.loads(log_key.inputs["policy"])["Statement"]
    services = [s["Principal"].get("Service") for s in statements if isinstance(s["Principal"], dict)]
    assert ["delivery.logs.amazonaws.com", f"logs.{plan.outputs['awsRegion']}.amazonaws.com"] in services


def test_stack_outputs_cover_what_gitops_and_runbooks_need(plan):
    expected = {
        "clusterName",
        "clusterEndpoint",
        "oidcProviderArn",
        "wafAclArn",
        "roleArns",
        "databaseEndpoint",
        "databaseSecretArn",
        "redisEndpoint",
        "redisAuthSecretArn",
        "appSigningKeysSecretArn",
        "modelBucketName",
        "ecrRepositoryUrl",
        "ciRoleArns",
        "githubOidcProviderArn",
        "vpcId",
        "kubeconfig",
    }
    assert expected <= set(plan.outputs)
    assert all(plan.outputs[k] not in (None, "", "[unknown]") for k in expected)


def test_plan_is_deterministic(dev_plan):
    assert run_stack("dev").dumps() == dev_plan.dumps()


@pytest.mark.parametrize("stack", ["prod"])
def test_prod_offline_run_takes_a_few_seconds(stack, prod_plan, run_seconds):
    print(f"\noffline run of {stack}: {run_seconds[stack]:.2f} s, {len(prod_plan.resources)} resources")
    assert run_seconds[stack] < 10
