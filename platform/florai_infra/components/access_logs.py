"""A bucket that receives S3 server access logs of one source bucket.

S3 delivers access logs only to a bucket with SSE-S3 (not SSE-KMS) and no ACLs, through a bucket
policy for logging.s3.amazonaws.com limited to the source bucket and account.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from florai_infra.components.iam_documents import deny_insecure_transport, document
from florai_infra.components.private_bucket import private_bucket

ACCESS_LOG_DAYS = 365


@dataclass(frozen=True)
class AccessLogBucketArgs:
    bucket_name: str
    source_bucket_arn: pulumi.Input[str]
    force_destroy: bool
    protect: bool
    tags: dict[str, str]


class AccessLogBucket(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]

    def __init__(self, name: str, args: AccessLogBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:storage:AccessLogBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        parts = private_bucket(name, args.bucket_name, args.force_destroy, args.protect, args.tags, self)
        bucket, public_access, versioning = parts.bucket, parts.public_access, parts.versioning
        aws.s3.BucketServerSideEncryptionConfiguration(
            name,
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            name,
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {},
                    "expiration": {"days": ACCESS_LOG_DAYS},
                    "noncurrent_version_expiration": {"noncurrent_days": 1},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
                }
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        aws.s3.BucketPolicy(
            name,
            bucket=bucket.id,
            policy=document(
                [
                    {
                        "Sid": "S3ServerAccessLogs",
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": pulumi.Output.concat(bucket.arn, "/*"),
                        "Condition": {"ArnLike": {"aws:SourceArn": args.source_bucket_arn}},
                    },
                    deny_insecure_transport(bucket.arn),
                ]
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )
        self.bucket_name = bucket.bucket
        self.register_outputs({"bucket_name": self.bucket_name})
