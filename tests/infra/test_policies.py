"""Every FlorAI policy, called directly with hand-built props: one compliant and one violating case each."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from florai_infra.policies import RESOURCE_POLICIES, STACK_POLICIES, Enforcement
from florai_infra.policies.model import ResourcePolicy, StackResource
from florai_infra.policies.taggable import is_taggable
from florai_infra.tagging import REQUIRED_TAG_KEYS, base_tags

POLICIES = {p.name: p for p in (*RESOURCE_POLICIES, *STACK_POLICIES)}
PROD = base_tags("prod", owner="platform", cost_centre="cc-1")
DEV = base_tags("dev", owner="platform", cost_centre="cc-1")
KEY = "arn:aws:kms:eu-west-1:123456789012:key/k"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
GROUPS = [
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
]

# Compliant props per type, in camelCase wire names as the program produces them.
GOOD: dict[str, dict[str, Any]] = {
    "aws:rds/instance:Instance": {
        "storageEncrypted": True,
        "kmsKeyId": KEY,
        "publiclyAccessible": False,
        "backupRetentionPeriod": 7,
        "multiAz": True,
        "deletionProtection": True,
        "tags": PROD,
    },
    "aws:elasticache/replicationGroup:ReplicationGroup": {
        "atRestEncryptionEnabled": True,
        "transitEncryptionEnabled": True,
        "authToken": "[secret]",
        "automaticFailoverEnabled": True,
        "multiAzEnabled": True,
        "tags": PROD,
    },
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {
        "bucket": "b",
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    },
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
        "bucket": "b",
        "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}}],
    },
    "aws:eks/cluster:Cluster": {
        "version": "1.35",
        "encryptionConfig": {"provider": {"keyArn": KEY}, "resources": ["secrets"]},
        "enabledClusterLogTypes": LOG_TYPES,
        "vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True},
        "tags": PROD,
    },
    "aws:eks/nodeGroup:NodeGroup": {
        "instanceTypes": ["g5.xlarge"],
        "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
        "launchTemplate": {"id": "lt-1", "version": "1"},
        "version": "1.35",
        "releaseVersion": "1.35.6-20260714",
        "tags": PROD,
    },
    "aws:eks/addon:Addon": {"addonName": "vpc-cni", "addonVersion": "v1.22.3-eksbuild.1", "tags": PROD},
    "aws:ec2/launchTemplate:LaunchTemplate": {
        "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": KEY}}],
        "tags": PROD,
    },
    "aws:wafv2/webAcl:WebAcl": {
        "rules": [
            {"name": g, "statement": {"managedRuleGroupStatement": {"name": g, "vendorName": "AWS"}}}
            for g in GROUPS
        ]
        + [{"name": "rate", "statement": {"rateBasedStatement": {"limit": 2000, "aggregateKeyType": "IP"}}}],
        "tags": PROD,
    },
    "aws:ecr/repository:Repository": {
        "imageTagMutability": "IMMUTABLE",
        "imageScanningConfiguration": {"scanOnPush": True},
        "tags": PROD,
    },
    "aws:kms/key:Key": {"enableKeyRotation": True, "tags": PROD},
    "aws:ec2/vpc:Vpc": {"cidrBlock": "10.0.0.0/16", "tags": PROD},
}

# (policy, type, change to the compliant props, words the violation message contains)
VIOLATIONS = [
    ("rds-encrypted-at-rest", "aws:rds/instance:Instance", {"storageEncrypted": False}, "storageEncrypted"),
    ("rds-encrypted-at-rest", "aws:rds/instance:Instance", {"kmsKeyId": None}, "kmsKeyId"),
    ("rds-not-public", "aws:rds/instance:Instance", {"publiclyAccessible": True}, "publiclyAccessible"),
    ("rds-backup-retention", "aws:rds/instance:Instance", {"backupRetentionPeriod": 1}, "at least 7"),
    ("rds-backup-retention", "aws:rds/instance:Instance", {"backupRetentionPeriod": None}, "None"),
    ("rds-resilient-outside-dev", "aws:rds/instance:Instance", {"multiAz": False}, "multiAz"),
    ("rds-resilient-outside-dev", "aws:rds/instance:Instance", {"deletionProtection": False}, "deletion"),
    ("redis-encrypted-at-rest", "aws:elasticache/replicationGroup:ReplicationGroup",
     {"atRestEncryptionEnabled": False}, "atRestEncryptionEnabled"),
    ("redis-transit-encryption-and-auth", "aws:elasticache/replicationGroup:ReplicationGroup",
     {"transitEncryptionEnabled": False}, "transitEncryptionEnabled"),
    ("redis-transit-encryption-and-auth", "aws:elasticache/replicationGroup:ReplicationGroup",
     {"authToken": None}, "authToken"),
    ("redis-failover-outside-dev", "aws:elasticache/replicationGroup:ReplicationGroup",
     {"automaticFailoverEnabled": False}, "automaticFailoverEnabled"),
    ("redis-failover-outside-dev", "aws:elasticache/replicationGroup:ReplicationGroup",
     {"multiAzEnabled": None}, "multiAzEnabled"),
    ("s3-public-access-block", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
     {"restrictPublicBuckets": False}, "restrictPublicBuckets"),
    ("s3-encrypted-at-rest", SSE,
     {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}, "AES256"),
    ("s3-encrypted-at-rest", SSE,
     {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]}, "kmsMasterKeyId"),
    ("eks-secrets-encrypted", "aws:eks/cluster:Cluster", {"encryptionConfig": None}, "secrets"),
    ("eks-secrets-encrypted", "aws:eks/cluster:Cluster",
     {"encryptionConfig": {"resources": ["secrets"], "provider": {}}}, "keyArn"),
    ("eks-control-plane-logs", "aws:eks/cluster:Cluster",
     {"enabledClusterLogTypes": ["api", "audit"]}, "authenticator, controllerManager, scheduler"),
    ("eks-endpoint-not-open", "aws:eks/cluster:Cluster",
     {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}}, "in prod"),
    ("eks-endpoint-not-open", "aws:eks/cluster:Cluster",
     {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}, "tags": DEV},
     "0.0.0.0/0"),
    ("eks-endpoint-not-open", "aws:eks/cluster:Cluster", {"vpcConfig": {}, "tags": DEV}, "AWS opens it"),
    ("gpu-node-group-tainted", "aws:eks/nodeGroup:NodeGroup", {"taints": []}, "nvidia.com/gpu"),
    ("gpu-node-group-tainted", "aws:eks/nodeGroup:NodeGroup",
     {"instanceTypes": ["p4d.24xlarge"], "taints": [{"key": "nvidia.com/gpu", "effect": "NO_EXECUTE"}]},
     "NoSchedule"),
    ("gpu-node-group-tainted", "aws:eks/nodeGroup:NodeGroup",
     {"instanceTypes": None, "amiType": "AL2023_x86_64_NVIDIA", "taints": None}, "GPU node group"),
    ("launch-template-imdsv2", "aws:ec2/launchTemplate:LaunchTemplate",
     {"metadataOptions": {"httpTokens": "optional"}}, "optional"),
    ("launch-template-ebs-encrypted", "aws:ec2/launchTemplate:LaunchTemplate",
     {"blockDeviceMappings": [{"deviceName": "/dev/xvdb", "ebs": {"encrypted": "false"}}]}, "/dev/xvdb"),
    ("launch-template-ebs-encrypted", "aws:ec2/launchTemplate:LaunchTemplate",
     {"blockDeviceMappings": None}, "AMI default"),
    ("waf-baseline-rules", "aws:wafv2/webAcl:WebAcl", {"rules": []}, "AWSManagedRulesSQLiRuleSet"),
    ("waf-baseline-rules", "aws:wafv2/webAcl:WebAcl",
     {"rules": GOOD["aws:wafv2/webAcl:WebAcl"]["rules"][:4]}, "rate-based"),
    ("ecr-immutable-scanned", "aws:ecr/repository:Repository", {"imageTagMutability": "MUTABLE"}, "MUTABLE"),
    ("ecr-immutable-scanned", "aws:ecr/repository:Repository",
     {"imageScanningConfiguration": {"scanOnPush": False}}, "scanOnPush"),
    ("kms-key-rotation", "aws:kms/key:Key", {"enableKeyRotation": False}, "rotates"),
    ("required-tags", "aws:ec2/vpc:Vpc", {"tags": {"environment": "prod"}}, "owner, cost-centre"),
    ("eks-supported-version", "aws:eks/cluster:Cluster", {"version": "1.31"}, "left EKS standard support"),
    ("eks-supported-version", "aws:eks/cluster:Cluster", {"version": "1.29"}, "not in the EKS"),
    ("eks-addon-version-pinned", "aws:eks/addon:Addon", {"addonVersion": None}, "pin an EKS add-on build"),
    ("eks-addon-version-pinned", "aws:eks/addon:Addon", {"addonVersion": "latest"}, "'latest'"),
    ("node-ami-release-pinned", "aws:eks/nodeGroup:NodeGroup", {"releaseVersion": None}, "pin the EKS AMI"),
    ("node-ami-release-pinned", "aws:eks/nodeGroup:NodeGroup",
     {"releaseVersion": "1.34.9-20260714"}, "not an AMI of Kubernetes 1.35"),
    ("required-tags", "aws:eks/nodeGroup:NodeGroup", {"tags": None}, "environment, owner, cost-centre"),
]  # fmt: skip


def run_policy(policy: ResourcePolicy, props: dict[str, Any]) -> list[str]:
    found: list[str] = []
    policy.validate(props, found.append)
    return found


def with_change(resource_type: str, change: dict[str, Any]) -> dict[str, Any]:
    props = copy.deepcopy(GOOD[resource_type])
    for key, value in change.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return props


def test_every_policy_has_a_violating_case():
    covered = {name for name, *_ in VIOLATIONS}
    stack_level = {p.name for p in STACK_POLICIES}
    assert covered | stack_level == set(POLICIES)


@pytest.mark.parametrize("policy", RESOURCE_POLICIES, ids=lambda p: p.name)
def test_compliant_props_pass(policy: ResourcePolicy):
    applicable = [t for t in GOOD if policy.applies_to(t)]
    assert applicable, f"no compliant example for {policy.name}"
    for resource_type in applicable:
        assert run_policy(policy, GOOD[resource_type]) == [], resource_type


@pytest.mark.parametrize(("name", "resource_type", "change", "words"), VIOLATIONS)
def test_violation_is_reported(name, resource_type, change, words):
    policy = POLICIES[name]
    assert policy.applies_to(resource_type)
    messages = run_policy(policy, with_change(resource_type, change))
    assert any(words in m for m in messages), messages


def test_dev_relaxes_only_the_resilience_rules():
    single_az = with_change("aws:rds/instance:Instance", {"multiAz": False, "deletionProtection": False})
    assert run_policy(POLICIES["rds-resilient-outside-dev"], single_az)
    assert run_policy(POLICIES["rds-resilient-outside-dev"], {**single_az, "tags": DEV}) == []
    public = with_change("aws:rds/instance:Instance", {"publiclyAccessible": True, "tags": DEV})
    assert run_policy(POLICIES["rds-not-public"], public)


def test_dev_cluster_may_have_a_restricted_public_endpoint():
    props = with_change(
        "aws:eks/cluster:Cluster",
        {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}, "tags": DEV},
    )
    assert run_policy(POLICIES["eks-endpoint-not-open"], props) == []


def test_cpu_node_group_needs_no_gpu_taint():
    props = with_change("aws:eks/nodeGroup:NodeGroup", {"instanceTypes": ["m7i.xlarge"], "taints": None})
    assert run_policy(POLICIES["gpu-node-group-tainted"], props) == []


def test_waf_rules_from_raw_rule_json():
    rule_json = (
        '[{"Name":"c","Statement":{"ManagedRuleGroupStatement":{"Name":"AWSManagedRulesCommonRuleSet",'
        '"VendorName":"AWS"}}},{"Name":"r","Statement":{"RateBasedStatement":{"Limit":100}}}]'
    )
    messages = run_policy(POLICIES["waf-baseline-rules"], {"ruleJson": rule_json})
    assert messages == [
        "web ACL lacks the AWS managed rule groups AWSManagedRulesKnownBadInputsRuleSet, "
        "AWSManagedRulesSQLiRuleSet, AWSManagedRulesAmazonIpReputationList"
    ]


def test_taggability_comes_from_the_provider_classes():
    assert is_taggable("aws:ec2/vpc:Vpc")
    assert is_taggable("aws:eks/nodeGroup:NodeGroup")
    assert not is_taggable("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert not is_taggable("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert not is_taggable("kubernetes:core/v1:Namespace")
    assert not is_taggable("florai:network:Network")
    assert not POLICIES["required-tags"].applies_to("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")


def test_required_tags_are_the_tagging_module_keys():
    messages = run_policy(POLICIES["required-tags"], {"tags": {}})
    assert messages == [f"missing required tags: {', '.join(REQUIRED_TAG_KEYS)}"]


def bucket(name: str, urn: str) -> StackResource:
    return StackResource("aws:s3/bucket:Bucket", name, urn, {"bucket": f"florai-{name}", "tags": PROD})


def attached(type_: str, name: str, bucket_urn: str) -> StackResource:
    return StackResource(type_, name, f"urn:{name}", {"bucket": "id"}, dependencies=(bucket_urn,))


def run_stack_policy(name: str, resources: list[StackResource]) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    POLICIES[name].validate(resources, lambda message, urn=None: found.append((message, urn)))
    return found


def test_every_bucket_needs_a_public_access_block():
    models, logs = bucket("models", "urn:models"), bucket("logs", "urn:logs")
    resources = [models, logs, attached(PAB, "pab", "urn:models")]
    assert run_stack_policy("s3-every-bucket-blocked", resources) == [
        ("bucket logs has no public access block", "urn:logs")
    ]
    by_name = StackResource(PAB, "pab-logs", "urn:pab-logs", {"bucket": "florai-logs"})
    assert run_stack_policy("s3-every-bucket-blocked", [*resources, by_name]) == []


def test_every_bucket_needs_sse_kms():
    resources = [bucket("models", "urn:models"), attached(SSE, "sse", "urn:models")]
    assert run_stack_policy("s3-every-bucket-encrypted", resources) == []
    bare = bucket("logs", "urn:logs")
    assert run_stack_policy("s3-every-bucket-encrypted", [*resources, bare]) == [
        ("bucket logs has no SSE-KMS encryption configuration", "urn:logs")
    ]


def test_every_node_group_needs_a_declared_launch_template():
    template = StackResource("aws:ec2/launchTemplate:LaunchTemplate", "lt", "urn:lt", {})
    group = StackResource(
        "aws:eks/nodeGroup:NodeGroup", "gpu", "urn:gpu", {"launchTemplate": {"id": "lt-1"}}, ("urn:lt",)
    )
    assert run_stack_policy("node-group-launch-template", [template, group]) == []
    bare = StackResource("aws:eks/nodeGroup:NodeGroup", "system", "urn:system", {})
    foreign = StackResource(NODE_GROUP, "other", "urn:other", {"launchTemplate": {"id": "x"}})
    messages = run_stack_policy("node-group-launch-template", [template, group, bare, foreign])
    assert [urn for _, urn in messages] == ["urn:system", "urn:other"]
    assert "no launchTemplate" in messages[0][0] and "not declared" in messages[1][0]


def test_advisory_and_mandatory_levels():
    assert POLICIES["kms-key-rotation"].enforcement is Enforcement.ADVISORY
    assert POLICIES["rds-not-public"].enforcement is Enforcement.MANDATORY
    assert len(POLICIES) == len(RESOURCE_POLICIES) + len(STACK_POLICIES)  # names are unique


def test_s3_access_log_buckets_may_use_sse_s3_only_by_name():
    props = with_change(SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]})
    assert (
        run_policy(POLICIES["s3-encrypted-at-rest"], {**props, "bucket": "florai-prod-access-logs-1"}) == []
    )
    assert run_policy(POLICIES["s3-encrypted-at-rest"], {**props, "bucket": "florai-prod-models-1"})


VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
GOOD_RULE = {
    "status": "Enabled",
    "noncurrentVersionExpiration": {"noncurrentDays": 90},
    "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
}


def test_versioned_buckets_need_lifecycle_rules_for_old_versions_and_uploads():
    models = bucket("models", "urn:models")
    versioned = [models, attached(VERSIONING, "v", "urn:models")]
    lifecycle = StackResource(
        LIFECYCLE, "lc", "urn:lc", {"bucket": "id", "rules": [GOOD_RULE]}, ("urn:models",)
    )
    assert run_stack_policy("s3-versioned-bucket-lifecycle", [*versioned, lifecycle]) == []
    messages = [m for m, _ in run_stack_policy("s3-versioned-bucket-lifecycle", versioned)]
    assert any("noncurrentVersionExpiration" in m for m in messages)
    assert any("abortIncompleteMultipartUpload" in m for m in messages)
    disabled = StackResource(
        LIFECYCLE, "lc", "urn:lc", {"rules": [{**GOOD_RULE, "status": "Disabled"}]}, ("urn:models",)
    )
    assert len(run_stack_policy("s3-versioned-bucket-lifecycle", [*versioned, disabled])) == 2
    assert run_stack_policy("s3-versioned-bucket-lifecycle", [bucket("plain", "urn:plain")]) == []


def test_every_vpc_needs_its_default_security_group_managed_without_rules():
    vpc = StackResource("aws:ec2/vpc:Vpc", "vpc", "urn:vpc", {"tags": PROD})
    closed = StackResource(
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "default",
        "urn:sg",
        {"ingress": [], "egress": []},
        ("urn:vpc",),
    )
    assert run_stack_policy("vpc-default-security-group-closed", [vpc, closed]) == []
    assert run_stack_policy("vpc-default-security-group-closed", [vpc]) == [
        ("VPC vpc leaves its default security group unmanaged (AWS allows all within it)", "urn:vpc")
    ]
    open_ = StackResource(
        closed.type, "default", "urn:sg", {"ingress": [{"protocol": "-1", "self": True}]}, ("urn:vpc",)
    )
    assert run_stack_policy("vpc-default-security-group-closed", [vpc, open_]) == [
        ("default security group default has rules: manage it with none", "urn:sg")
    ]


def stateful(type_: str, tags: dict, protect: bool | None, retain: bool | None) -> StackResource:
    return StackResource(type_, "r", f"urn:{type_}", {"tags": tags}, protect=protect, retain_on_delete=retain)


def test_stateful_resources_are_protected_and_retained_outside_dev():
    rds = "aws:rds/instance:Instance"
    assert run_stack_policy("stateful-resources-protected", [stateful(rds, PROD, True, True)]) == []
    assert run_stack_policy("stateful-resources-protected", [stateful(rds, DEV, False, False)]) == []
    (unprotected,) = run_stack_policy("stateful-resources-protected", [stateful(rds, PROD, False, False)])
    assert "is not protected" in unprotected[0]
    (unretained,) = run_stack_policy("stateful-resources-protected", [stateful(rds, PROD, True, False)])
    assert "not retained on delete" in unretained[0]
    cache = stateful("aws:elasticache/replicationGroup:ReplicationGroup", PROD, True, False)
    assert run_stack_policy("stateful-resources-protected", [cache]) == []  # protected; its data is a cache
    for type_ in (
        "aws:kms/key:Key",
        "aws:ecr/repository:Repository",
        "aws:s3/bucket:Bucket",
        "aws:eks/cluster:Cluster",
    ):
        assert run_stack_policy("stateful-resources-protected", [stateful(type_, PROD, False, False)]), type_
