"""ElastiCache Redis replication group: private, encrypted at rest and in transit, auth token."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from florai_infra.components.firewall import node_only_security_group
from florai_infra.components.generated_secret import generated_password
from florai_infra.components.protection import stateful
from florai_infra.config import CacheSettings

REDIS_PORT = 6379
AUTH_TOKEN_LENGTH = 64


@dataclass(frozen=True)
class CacheArgs:
    settings: CacheSettings
    replication_group_id: str
    auth_secret_name: str
    environment: str
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    node_security_group_id: pulumi.Input[str]
    storage_key_arn: pulumi.Input[str]
    secret_key_arn: pulumi.Input[str]
    protect: bool
    tags: dict[str, str]


class Cache(pulumi.ComponentResource):
    primary_endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    auth_secret_arn: pulumi.Output[str]
    port: int

    def __init__(self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:cache:Cache", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = args.settings

        # Secrets Manager generates the token; it is written once and then left alone.
        token = generated_password(AUTH_TOKEN_LENGTH)
        secret = aws.secretsmanager.Secret(
            f"{name}-auth",
            name=args.auth_secret_name,
            description="Redis AUTH token of the FlorAI cache",
            kms_key_id=args.secret_key_arn,
            recovery_window_in_days=0 if args.environment == "dev" else 7,
            tags=args.tags,
            opts=child,
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-auth",
            secret_id=secret.id,
            secret_string=token,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["secretString"]),
        )
        subnets = aws.elasticache.SubnetGroup(
            name, name=args.replication_group_id, subnet_ids=args.subnet_ids, tags=args.tags, opts=child
        )
        security_group = node_only_security_group(
            name,
            group_name=f"{args.replication_group_id}-cache",
            service="Redis",
            port=REDIS_PORT,
            vpc_id=args.vpc_id,
            node_security_group_id=args.node_security_group_id,
            tags=args.tags,
            opts=child,
        )
        replicated = s.replicas > 0
        group = aws.elasticache.ReplicationGroup(
            name,
            replication_group_id=args.replication_group_id,
            description=f"FlorAI cache ({args.environment})",
            engine="redis",
            engine_version=s.engine_version,
            node_type=s.node_type,
            port=REDIS_PORT,
            num_cache_clusters=1 + s.replicas,
            automatic_failover_enabled=replicated,
            multi_az_enabled=replicated,
            at_rest_encryption_enabled=True,
            kms_key_id=args.storage_key_arn,
            transit_encryption_enabled=True,
            auth_token=token,
            subnet_group_name=subnets.name,
            security_group_ids=[security_group.id],
            snapshot_retention_limit=s.snapshot_retention_days,
            auto_minor_version_upgrade=True,
            apply_immediately=args.environment == "dev",
            tags=args.tags,
            # The token invoke answers anew on every run; the secret version holds the live one.
            # Only the prediction cache and rate-limit counters live here: protected, not retained.
            opts=stateful(self, args.protect, holds_data=False, ignore_changes=["authToken"]),
        )
        self.primary_endpoint = group.primary_endpoint_address
        self.reader_endpoint = group.reader_endpoint_address
        self.auth_secret_arn = secret.arn
        self.port = REDIS_PORT
        self.register_outputs(
            {"primary_endpoint": self.primary_endpoint, "auth_secret_arn": self.auth_secret_arn}
        )
