"""Disaster recovery: copies of what the region-loss runbook rebuilds from, in a secondary region.

- RDS automated backups (snapshots + transaction logs) replicated to the DR region, encrypted with a
  DR-region key: point-in-time restore there (runbooks/dr/region-loss.md).
- ECR images replicated to the DR region (same repository name), so the rebuilt cluster pulls the
  exact image digests the overlays pin.
- The model bucket replicated (every version, delete markers too) to a replica bucket with the same
  protections as the primary (versioning, SSE-KMS with a DR-region key, public access block, TLS only).
- Redis is NOT copied: it holds only the prediction cache and rate-limit counters, both rebuilt from
  traffic within minutes, so a cross-region snapshot export would buy nothing but cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from florai_infra.components.iam_documents import document
from florai_infra.components.kms import key_policy
from florai_infra.components.protection import stateful
from florai_infra.components.storage import ModelStore, ModelStoreArgs

# Key purposes (KEY_SERVICES in kms.py) the DR region needs its own key for.
DR_KEY_PURPOSES = ("rds", "s3")


@dataclass(frozen=True)
class DisasterRecoveryArgs:
    name_prefix: str
    region: str
    dr_region: str
    account_id: str
    partition: str
    database_arn: pulumi.Input[str]
    backup_retention_days: int
    repository_prefix: str
    model_bucket_name: pulumi.Input[str]
    model_bucket_arn: pulumi.Input[str]
    model_bucket_versioning: pulumi.Resource
    model_key_arn: pulumi.Input[str]
    replica_bucket_name: str
    force_destroy: bool
    protect: bool
    tags: dict[str, str]


def replication_role_policy(
    source_arn: pulumi.Input[str],
    replica_arn: pulumi.Input[str],
    source_key_arn: pulumi.Input[str],
    replica_key_arn: pulumi.Input[str],
    region: str,
    dr_region: str,
) -> pulumi.Output[str]:
    """Least privilege for S3 replication: read versions of the source, write replicas, use the two keys."""
    return document(
        [
            {
                "Sid": "ReadReplicationConfiguration",
                "Effect": "Allow",
                "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "Resource": [source_arn],
            },
            {
                "Sid": "ReadSourceVersions",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionTagging",
                ],
                "Resource": [pulumi.Output.concat(source_arn, "/*")],
            },
            {
                "Sid": "WriteReplicas",
                "Effect": "Allow",
                "Action": ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
                "Resource": [pulumi.Output.concat(replica_arn, "/*")],
            },
            {
                "Sid": "DecryptSourceObjects",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [source_key_arn],
                "Condition": {"StringLike": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            },
            {
                "Sid": "EncryptReplicas",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": [replica_key_arn],
                "Condition": {"StringLike": {"kms:ViaService": f"s3.{dr_region}.amazonaws.com"}},
            },
        ]
    )


def _assume_by_s3() -> str:
    return document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ]
    )


class DisasterRecovery(pulumi.ComponentResource):
    provider: aws.Provider
    replica_bucket_name: pulumi.Output[str]
    replica_bucket_arn: pulumi.Output[str]
    backup_replication_arn: pulumi.Output[str]
    key_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: DisasterRecoveryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:dr:DisasterRecovery", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.provider = aws.Provider(f"{name}-{args.dr_region}", region=args.dr_region, opts=child)
        in_dr = pulumi.ResourceOptions(parent=self, provider=self.provider)

        self.key_arns = {}
        for purpose in DR_KEY_PURPOSES:
            key = aws.kms.Key(
                f"{name}-{purpose}",
                description=f"{args.name_prefix} {purpose} disaster-recovery copies ({args.dr_region})",
                enable_key_rotation=True,
                rotation_period_in_days=365,
                deletion_window_in_days=30,
                policy=key_policy(purpose, args.dr_region, args.account_id, args.partition),
                tags={**args.tags, "purpose": f"dr-{purpose}"},
                opts=stateful(self, args.protect, holds_data=True, provider=self.provider),
            )
            aws.kms.Alias(
                f"{name}-{purpose}",
                name=f"alias/{args.name_prefix}-dr-{purpose}",
                target_key_id=key.key_id,
                opts=in_dr,
            )
            self.key_arns[purpose] = key.arn

        backups = aws.rds.InstanceAutomatedBackupsReplication(
            f"{name}-database-backups",
            source_db_instance_arn=args.database_arn,
            kms_key_id=self.key_arns["rds"],
            retention_period=args.backup_retention_days,
            opts=in_dr,
        )

        aws.ecr.ReplicationConfiguration(
            f"{name}-registry",
            replication_configuration={
                "rules": [
                    {
                        "destinations": [{"region": args.dr_region, "registry_id": args.account_id}],
                        "repository_filters": [
                            {"filter": args.repository_prefix, "filter_type": "PREFIX_MATCH"}
                        ],
                    }
                ]
            },
            opts=child,
        )

        # The replica carries every protection of the primary bucket: one component for both.
        replica = ModelStore(
            f"{name}-models",
            ModelStoreArgs(
                args.replica_bucket_name, self.key_arns["s3"], args.force_destroy, args.protect, args.tags
            ),
            opts=pulumi.ResourceOptions(parent=self, providers=[self.provider]),
        )
        role = aws.iam.Role(
            f"{name}-models-replication",
            name=f"{args.name_prefix}-models-replication",
            description="S3 replication of the model bucket to the disaster-recovery region",
            assume_role_policy=_assume_by_s3(),
            tags=args.tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-models-replication",
            role=role.id,
            policy=replication_role_policy(
                args.model_bucket_arn,
                replica.bucket_arn,
                args.model_key_arn,
                self.key_arns["s3"],
                args.region,
                args.dr_region,
            ),
            opts=child,
        )
        aws.s3.BucketReplicationConfig(
            f"{name}-models",
            bucket=args.model_bucket_name,
            role=role.arn,
            rules=[
                {
                    "id": f"models-to-{args.dr_region}",
                    "status": "Enabled",
                    "priority": 1,
                    "filter": {"prefix": ""},
                    # A deleted model version must not survive in the replica (and vice versa).
                    "delete_marker_replication": {"status": "Enabled"},
                    "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
                    "destination": {
                        "bucket": replica.bucket_arn,
                        "storage_class": "STANDARD",
                        "encryption_configuration": {"replica_kms_key_id": self.key_arns["s3"]},
                    },
                }
            ],
            # Replication needs versioning on both sides first.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[args.model_bucket_versioning, replica.versioning]
            ),
        )
        self.replica_bucket_name = replica.bucket_name
        self.replica_bucket_arn = replica.bucket_arn
        self.backup_replication_arn = backups.id
        self.register_outputs(
            {
                "replica_bucket_name": self.replica_bucket_name,
                "backup_replication_arn": self.backup_replication_arn,
            }
        )
