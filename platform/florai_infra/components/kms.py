"""Customer-managed KMS keys, one per data domain, with rotation and service-scoped key policies."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from florai_infra.components.protection import stateful

# Key purpose -> services that use it through their own grants (kms:ViaService).
KEY_SERVICES: dict[str, tuple[str, ...]] = {
    "eks": ("eks",),
    "rds": ("rds",),
    "cache": ("elasticache",),
    "s3": ("s3",),
    "logs": (),  # CloudWatch Logs is granted on the key policy directly
    "ebs": ("ec2", "autoscaling"),
    "secrets": ("secretsmanager",),
    "ecr": ("ecr",),
}
KEY_USE_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]


@dataclass(frozen=True)
class KmsArgs:
    name_prefix: str
    region: str
    account_id: str
    partition: str
    tags: dict[str, str]
    protect: bool = False  # outside dev: losing a key loses the data it encrypts


def key_policy(purpose: str, region: str, account_id: str, partition: str) -> str:
    """Account root administers the key; only the named services (or log delivery) may use it."""
    root = f"arn:{partition}:iam::{account_id}:root"
    statements: list[dict] = [
        {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": "kms:*",
            "Resource": "*",
        },
    ]
    services = KEY_SERVICES[purpose]
    if services:
        statements.append(
            {
                "Sid": "UseThroughService",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [*KEY_USE_ACTIONS, "kms:CreateGrant", "kms:ListGrants"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account_id,
                        "kms:ViaService": sorted(f"{s}.{region}.amazonaws.com" for s in services),
                    }
                },
            }
        )
    if purpose == "ebs":
        # Managed node groups launch encrypted volumes as the Auto Scaling service-linked role.
        asg_role = (
            f"arn:{partition}:iam::{account_id}:role/aws-service-role/"
            "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
        )
        statements += [
            {
                "Sid": "AutoScalingUsesKey",
                "Effect": "Allow",
                "Principal": {"AWS": asg_role},
                "Action": KEY_USE_ACTIONS,
                "Resource": "*",
            },
            {
                "Sid": "AutoScalingGrants",
                "Effect": "Allow",
                "Principal": {"AWS": asg_role},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}},
            },
        ]
    if purpose == "logs":
        statements.append(
            {
                "Sid": "LogsAndLogDelivery",
                "Effect": "Allow",
                "Principal": {
                    "Service": sorted([f"logs.{region}.amazonaws.com", "delivery.logs.amazonaws.com"])
                },
                "Action": KEY_USE_ACTIONS,
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:*"
                    }
                },
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


class Kms(pulumi.ComponentResource):
    """One rotating key per purpose in ``KEY_SERVICES``, each with an alias."""

    keys: dict[str, aws.kms.Key]

    def __init__(self, name: str, args: KmsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:security:Kms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.keys = {}
        for purpose in KEY_SERVICES:
            key = aws.kms.Key(
                f"{name}-{purpose}",
                description=f"{args.name_prefix} {purpose} encryption",
                enable_key_rotation=True,
                rotation_period_in_days=365,
                deletion_window_in_days=30,
                policy=key_policy(purpose, args.region, args.account_id, args.partition),
                tags={**args.tags, "purpose": purpose},
                opts=stateful(self, args.protect, holds_data=True),
            )
            aws.kms.Alias(
                f"{name}-{purpose}",
                name=f"alias/{args.name_prefix}-{purpose}",
                target_key_id=key.key_id,
                opts=child,
            )
            self.keys[purpose] = key
        self.register_outputs({f"{p}_key_arn": k.arn for p, k in self.keys.items()})

    def arn(self, purpose: str) -> pulumi.Output[str]:
        return self.keys[purpose].arn
