"""S3 bucket for model artifacts: versioned, SSE-KMS with a bucket key, private, TLS-only,
lifecycle rules (old versions, unfinished uploads, kept consented images) and access logs."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from florai_infra.components.access_logs import AccessLogBucket, AccessLogBucketArgs
from florai_infra.components.iam_documents import deny_insecure_transport, document
from florai_infra.components.private_bucket import private_bucket

# Where the consent service keeps images a user agreed to keep (issue 17); they expire per stack.
CONSENTED_IMAGES = "consented-images/"
NONCURRENT_VERSION_DAYS = 90  # an overwritten or deleted model stays restorable this long
INCOMPLETE_UPLOAD_DAYS = 7


@dataclass(frozen=True)
class ModelStoreArgs:
    bucket_name: str
    kms_key_arn: pulumi.Input[str]
    force_destroy: bool
    protect: bool
    tags: dict[str, str]
    # Days a kept consented image (CONSENTED_IMAGES prefix) lives; None where no images arrive.
    image_retention_days: int | None = None
    access_log_bucket_name: str | None = None  # server access logs go to this bucket (created here)


class ModelStore(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    versioning: aws.s3.BucketVersioning

    def __init__(self, name: str, args: ModelStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:storage:ModelStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        parts = private_bucket(name, args.bucket_name, args.force_destroy, args.protect, args.tags, self)
        bucket, public_access = parts.bucket, parts.public_access
        # Replication (disaster_recovery.py) must wait for versioning on both buckets.
        self.versioning = parts.versioning
        aws.s3.BucketServerSideEncryptionConfiguration(
            name,
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": args.kms_key_arn,
                    },
                    "bucket_key_enabled": True,  # one data key per bucket, not per object: fewer KMS calls
                }
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            name,
            bucket=bucket.id,
            rules=lifecycle_rules(args.image_retention_days),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.versioning]),
        )
        if args.access_log_bucket_name:
            logs = AccessLogBucket(
                f"{name}-access-logs",
                AccessLogBucketArgs(
                    args.access_log_bucket_name, bucket.arn, args.force_destroy, args.protect, args.tags
                ),
                opts=child,
            )
            aws.s3.BucketLogging(
                name,
                bucket=bucket.id,
                target_bucket=logs.bucket_name,
                target_prefix=f"{args.bucket_name}/",
                opts=pulumi.ResourceOptions(parent=self, depends_on=[logs]),
            )
        aws.s3.BucketPolicy(
            name,
            bucket=bucket.id,
            policy=tls_only_policy(bucket.arn),
            # The public access block must exist first, or the policy call races it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )
        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.register_outputs({"bucket_name": self.bucket_name, "bucket_arn": self.bucket_arn})


def lifecycle_rules(image_retention_days: int | None) -> list[dict]:
    rules = [
        {
            "id": "expire-old-versions",
            "status": "Enabled",
            "filter": {},
            "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_VERSION_DAYS},
            "abort_incomplete_multipart_upload": {"days_after_initiation": INCOMPLETE_UPLOAD_DAYS},
        }
    ]
    if image_retention_days is not None:
        rules.append(
            {
                "id": "expire-consented-images",
                "status": "Enabled",
                "filter": {"prefix": CONSENTED_IMAGES},
                "expiration": {"days": image_retention_days},
            }
        )
    return rules


def tls_only_policy(bucket_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    return document([deny_insecure_transport(bucket_arn)])
