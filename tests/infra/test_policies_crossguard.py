"""The CrossGuard wrappers: same verdicts through pulumi_policy's argument objects (no PolicyPack server)."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from florai_infra.policies import RESOURCE_POLICIES, STACK_POLICIES
from florai_infra.policies.crossguard import pack_policies
from florai_infra.tagging import base_tags

PACK_DIR = Path(__file__).resolve().parents[2] / "platform" / "policy-pack"
RDS = "aws:rds/instance:Instance"
BUCKET = "aws:s3/bucket:Bucket"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
PROD = base_tags("prod", owner="platform", cost_centre="cc-1")
PRIVATE_DATABASE = {"publiclyAccessible": False, "storageEncrypted": True, "tags": PROD}


def options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def pack() -> dict[str, ResourceValidationPolicy | StackValidationPolicy]:
    return {p.name: p for p in pack_policies()}


def validate_resource(policy_name: str, resource_type: str, props: dict) -> list[tuple[str, str | None]]:
    """What the analyzer does: props behind the unknown-checking proxy, a report_violation callback."""
    args = ResourceValidationArgs(
        resource_type=resource_type,
        props=unknown_checking_proxy(copy.deepcopy(props)),
        urn=f"urn:pulumi:prod::florai::{resource_type}::x",
        name="x",
        opts=options(),
        provider=None,
    )
    found: list[tuple[str, str | None]] = []
    pack()[policy_name].validate(args, lambda message, urn=None: found.append((message, urn)))
    return found


def policy_resource(type_: str, name: str, props: dict, deps: list[PolicyResource] = ()) -> PolicyResource:
    urn = f"urn:pulumi:prod::florai::{type_}::{name}"
    proxied = unknown_checking_proxy(props)
    return PolicyResource(type_, proxied, urn, name, options(), None, None, list(deps), {})


def test_pack_wraps_every_policy_with_its_level():
    wrapped = pack()
    assert set(wrapped) == {p.name for p in (*RESOURCE_POLICIES, *STACK_POLICIES)}
    assert all(isinstance(wrapped[p.name], ResourceValidationPolicy) for p in RESOURCE_POLICIES)
    assert all(isinstance(wrapped[p.name], StackValidationPolicy) for p in STACK_POLICIES)
    assert wrapped["rds-not-public"].enforcement_level is EnforcementLevel.MANDATORY
    assert wrapped["kms-key-rotation"].enforcement_level is EnforcementLevel.ADVISORY


def test_resource_policy_passes_and_fails_through_the_wrapper():
    assert validate_resource("rds-not-public", RDS, PRIVATE_DATABASE) == []
    public = {**PRIVATE_DATABASE, "publiclyAccessible": True}
    assert validate_resource("rds-not-public", RDS, public) == [
        ("publiclyAccessible is true: the database gets a public address", None)
    ]


def test_wrapper_ignores_types_the_policy_does_not_cover():
    assert validate_resource("rds-not-public", "aws:ec2/vpc:Vpc", {"publiclyAccessible": True}) == []


def test_required_tags_through_the_wrapper():
    assert validate_resource("required-tags", "aws:ec2/vpc:Vpc", {"tags": PROD}) == []
    assert validate_resource("required-tags", "aws:ec2/vpc:Vpc", {}) != []


def test_stack_policy_through_the_wrapper_follows_dependencies():
    models = policy_resource(BUCKET, "models", {"tags": PROD})
    logs = policy_resource(BUCKET, "logs", {"tags": PROD})
    block = policy_resource(PAB, "models-pab", {"bucket": "id"}, deps=[models])
    found: list[tuple[str, str | None]] = []
    args = StackValidationArgs(resources=[models, logs, block])
    pack()["s3-every-bucket-blocked"].validate(args, lambda message, urn=None: found.append((message, urn)))
    assert found == [("bucket logs has no public access block", logs.urn)]


def test_pack_definition_runs_python_and_serves_the_shared_policies():
    spec = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert spec["runtime"]["name"] == "python"
    source = (PACK_DIR / "__main__.py").read_text()
    assert "PolicyPack(name=PACK_NAME, policies=pack_policies())" in source
    assert (PACK_DIR / spec["runtime"]["options"]["virtualenv"]).resolve() == PACK_DIR.parents[1] / ".venv"


def test_protection_reaches_the_stack_policy_from_the_resource_options():
    def database(protect: bool) -> PolicyResource:
        opts = PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
        return PolicyResource(
            RDS, unknown_checking_proxy(PRIVATE_DATABASE), f"urn:{RDS}::db", "db", opts, None, None, [], {}
        )

    found: list[tuple[str, str | None]] = []
    policy = pack()["stateful-resources-protected"]
    policy.validate(
        StackValidationArgs(resources=[database(True)]), lambda m, urn=None: found.append((m, urn))
    )
    assert found == []
    policy.validate(
        StackValidationArgs(resources=[database(False)]), lambda m, urn=None: found.append((m, urn))
    )
    assert [urn for _, urn in found] == [f"urn:{RDS}::db"] and "not protected" in found[0][0]
