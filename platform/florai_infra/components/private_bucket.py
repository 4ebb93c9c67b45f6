"""The parts every FlorAI bucket shares: owner-enforced, all public access blocked, versioned."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from florai_infra.components.protection import stateful


@dataclass(frozen=True)
class PrivateBucket:
    bucket: aws.s3.Bucket
    public_access: aws.s3.BucketPublicAccessBlock  # a bucket policy must wait for it
    versioning: aws.s3.BucketVersioning  # lifecycle rules and replication must wait for it


def private_bucket(
    name: str,
    bucket_name: str,
    force_destroy: bool,
    protect: bool,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> PrivateBucket:
    child = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(
        name,
        bucket=bucket_name,
        force_destroy=force_destroy,
        tags=tags,
        opts=stateful(parent, protect, holds_data=True),
    )
    aws.s3.BucketOwnershipControls(
        name, bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child
    )
    public_access = aws.s3.BucketPublicAccessBlock(
        name,
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    versioning = aws.s3.BucketVersioning(
        name, bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=child
    )
    return PrivateBucket(bucket, public_access, versioning)
