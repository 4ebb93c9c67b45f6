"""A small FlorAI-shaped program that passes every policy (used by the preview and policy tests)."""

import json

import pulumi
import pulumi_aws as aws

from florai_infra.tagging import base_tags

config = pulumi.Config("florai")
env = config.require("environment")
tags = base_tags(env, owner="platform", cost_centre="cc-1234")

UNPROTECTED = config.get("unprotect")  # a test names one stateful resource to leave unprotected


def stateful(name: str, parent: pulumi.Resource | None = None) -> pulumi.ResourceOptions:
    """Protected and retained on delete (they all hold data), as the real program does outside dev."""
    on = name != UNPROTECTED
    return pulumi.ResourceOptions(parent=parent, protect=on, retain_on_delete=on)


key = aws.kms.Key(
    "platform-key",
    enable_key_rotation=config.get_bool("keyRotation") is not False,
    tags=tags,
    opts=stateful("platform-key"),
)


class ModelStore(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:storage:ModelStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket", bucket=f"florai-{env}-models", tags=tags, opts=stateful(f"{name}-bucket", self)
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-sse",
            bucket=self.bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": key.arn,
                    }
                }
            ],
            opts=child,
        )
        self.register_outputs({"bucket": self.bucket.bucket})


class Database(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:database:Database", name, None, opts)
        self.instance = aws.rds.Instance(
            f"{name}-postgres",
            engine="postgres",
            engine_version="17",
            instance_class="db.t4g.medium",
            allocated_storage=20,
            storage_encrypted=True,
            kms_key_id=key.arn,
            publicly_accessible=config.get_bool("publicDatabase") or False,
            backup_retention_period=7,
            multi_az=True,
            deletion_protection=True,
            username="florai",
            password=config.require_secret("dbPassword"),
            skip_final_snapshot=True,
            tags=tags,
            opts=stateful(f"{name}-postgres", self),
        )
        self.register_outputs({"address": self.instance.address})


class Cluster(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:cluster:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.cluster = aws.eks.Cluster(
            f"{name}-eks",
            role_arn="arn:aws:iam::123456789012:role/eks",
            version="1.35",
            vpc_config={
                "subnet_ids": ["subnet-a", "subnet-b"],
                "endpoint_private_access": True,
                "endpoint_public_access": False,
            },
            encryption_config={"provider": {"key_arn": key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=["api", "audit", "authenticator", "controllerManager", "scheduler"],
            tags=tags,
            opts=stateful(f"{name}-eks", self),
        )
        template = aws.ec2.LaunchTemplate(
            f"{name}-gpu-template",
            metadata_options={"http_tokens": "required", "http_put_response_hop_limit": 1},
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",
                    "ebs": {"encrypted": "true", "volume_size": 100, "kms_key_id": key.arn},
                }
            ],
            tags=tags,
            opts=child,
        )
        aws.eks.NodeGroup(
            f"{name}-gpu",
            cluster_name=self.cluster.name,
            node_role_arn="arn:aws:iam::123456789012:role/nodes",
            subnet_ids=["subnet-a", "subnet-b"],
            instance_types=["g5.xlarge"],
            version="1.35",
            release_version="1.35.6-20260714",
            scaling_config={"desired_size": 1, "min_size": 0, "max_size": 4},
            taints=[{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
            launch_template={"id": template.id, "version": "$Latest"},
            tags=tags,
            opts=child,
        )
        self.register_outputs({"endpoint": self.cluster.endpoint})


class Registry(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:registry:Registry", name, None, opts)
        self.repository = aws.ecr.Repository(
            f"{name}-inference",
            name="florai/inference",
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            tags=tags,
            opts=stateful(f"{name}-inference", self),
        )
        self.register_outputs({"url": self.repository.repository_url})


def visibility(metric: str) -> dict:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


def managed_rule(name: str, priority: int) -> dict:
    return {
        "name": name,
        "priority": priority,
        "override_action": {"none": {}},
        "statement": {"managed_rule_group_statement": {"name": name, "vendor_name": "AWS"}},
        "visibility_config": visibility(name),
    }


class Waf(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:edge:Waf", name, None, opts)
        groups = [
            "AWSManagedRulesCommonRuleSet",
            "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesSQLiRuleSet",
            "AWSManagedRulesAmazonIpReputationList",
        ]
        rate_limit = {
            "name": "rate-limit",
            "priority": 10,
            "action": {"block": {}},
            "statement": {"rate_based_statement": {"limit": 2000, "aggregate_key_type": "IP"}},
            "visibility_config": visibility("rate"),
        }
        self.acl = aws.wafv2.WebAcl(
            f"{name}-acl",
            scope="REGIONAL",
            default_action={"allow": {}},
            rules=[managed_rule(g, i) for i, g in enumerate(groups)] + [rate_limit],
            visibility_config=visibility("acl"),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"arn": self.acl.arn})


store = ModelStore("models")
database = Database("db")
cluster = Cluster("cluster")
registry = Registry("registry")
waf = Waf("waf")

pulumi.export("modelBucket", store.bucket.bucket)
pulumi.export("databaseAddress", database.instance.address)
pulumi.export("databasePassword", config.require_secret("dbPassword"))
pulumi.export("repositoryUrl", registry.repository.repository_url)
pulumi.export("settings", json.dumps({"environment": env}))
