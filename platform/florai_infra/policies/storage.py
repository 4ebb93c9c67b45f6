"""S3: SSE-KMS on every bucket and a public access block with all four switches on."""

from __future__ import annotations

from collections.abc import Sequence

from florai_infra.policies.model import (
    Enforcement,
    Props,
    ReportResource,
    ReportStack,
    ResourcePolicy,
    StackPolicy,
    StackResource,
)
from florai_infra.policies.props import as_list, dig, is_true
from florai_infra.policies.resource_types import (
    S3_BUCKETS,
    S3_ENCRYPTION,
    S3_LIFECYCLE,
    S3_PUBLIC_ACCESS_BLOCK,
    S3_VERSIONING,
)

PUBLIC_ACCESS_SWITCHES = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def _all_switches_on(props: Props, report: ReportResource) -> None:
    off = [s for s in PUBLIC_ACCESS_SWITCHES if not is_true(props.get(s))]
    if off:
        report(f"public access block leaves {', '.join(off)} off")


# S3 delivers server access logs only into SSE-S3 buckets: these (named so) may use AES256.
ACCESS_LOG_BUCKET_MARK = "-access-logs-"


def _sse_kms(props: Props, report: ReportResource) -> None:
    rules = as_list(props.get("rules"))
    if ACCESS_LOG_BUCKET_MARK in str(props.get("bucket") or ""):
        return
    if not rules:
        report("no server-side encryption rule")
    for rule in rules:
        default = dig(rule, "applyServerSideEncryptionByDefault") or {}
        algorithm = dig(default, "sseAlgorithm")
        if algorithm not in KMS_ALGORITHMS:
            report(f"sseAlgorithm is {algorithm!r}: use SSE-KMS ('aws:kms')")
        elif not dig(default, "kmsMasterKeyId"):
            report("kmsMasterKeyId is not set: encrypt with the platform's customer-managed KMS key")


def _attached_to(bucket: StackResource, resource: StackResource) -> bool:
    """A bucket sub-resource belongs to ``bucket`` by dependency, or by the bucket's explicit name."""
    if bucket.urn in resource.dependencies:
        return True
    name = bucket.props.get("bucket")
    return bool(name) and resource.props.get("bucket") == name


def _inline_kms(bucket: StackResource) -> bool:
    rules = as_list(dig(bucket.props, "serverSideEncryptionConfiguration", "rule"))
    algorithms = [dig(r, "applyServerSideEncryptionByDefault", "sseAlgorithm") for r in rules]
    return bool(algorithms) and all(a in KMS_ALGORITHMS for a in algorithms)


def _every_bucket_blocked(resources: Sequence[StackResource], report: ReportStack) -> None:
    blocks = [r for r in resources if r.type == S3_PUBLIC_ACCESS_BLOCK]
    for bucket in (r for r in resources if r.type in S3_BUCKETS):
        if not any(_attached_to(bucket, b) for b in blocks):
            report(f"bucket {bucket.name} has no public access block", bucket.urn)


def _every_bucket_encrypted(resources: Sequence[StackResource], report: ReportStack) -> None:
    configs = [r for r in resources if r.type in S3_ENCRYPTION]
    for bucket in (r for r in resources if r.type in S3_BUCKETS):
        if not _inline_kms(bucket) and not any(_attached_to(bucket, c) for c in configs):
            report(f"bucket {bucket.name} has no SSE-KMS encryption configuration", bucket.urn)


def _versioned_buckets_expire_old_data(resources: Sequence[StackResource], report: ReportStack) -> None:
    lifecycles = [r for r in resources if r.type in S3_LIFECYCLE]
    versionings = [r for r in resources if r.type in S3_VERSIONING]
    for bucket in (r for r in resources if r.type in S3_BUCKETS):
        if not any(_attached_to(bucket, v) for v in versionings):
            continue
        rules = [
            rule for c in lifecycles if _attached_to(bucket, c) for rule in as_list(c.props.get("rules"))
        ]
        enabled = [r for r in rules if dig(r, "status") == "Enabled"]
        if not any(dig(r, "noncurrentVersionExpiration", "noncurrentDays") for r in enabled):
            report(
                f"versioned bucket {bucket.name} keeps old versions forever (no noncurrentVersionExpiration)",
                bucket.urn,
            )
        if not any(dig(r, "abortIncompleteMultipartUpload", "daysAfterInitiation") for r in enabled):
            report(
                f"bucket {bucket.name} keeps unfinished uploads (no abortIncompleteMultipartUpload)",
                bucket.urn,
            )


S3_POLICIES = (
    ResourcePolicy(
        name="s3-public-access-block",
        description="S3 public access blocks turn on all four switches.",
        enforcement=Enforcement.MANDATORY,
        resource_types=(S3_PUBLIC_ACCESS_BLOCK,),
        validate=_all_switches_on,
    ),
    ResourcePolicy(
        name="s3-encrypted-at-rest",
        description="S3 default encryption is SSE-KMS with a customer-managed key.",
        enforcement=Enforcement.MANDATORY,
        resource_types=S3_ENCRYPTION,
        validate=_sse_kms,
    ),
)

S3_STACK_POLICIES = (
    StackPolicy(
        name="s3-every-bucket-blocked",
        description="Every S3 bucket has a public access block.",
        enforcement=Enforcement.MANDATORY,
        validate=_every_bucket_blocked,
    ),
    StackPolicy(
        name="s3-every-bucket-encrypted",
        description="Every S3 bucket has an SSE-KMS default encryption configuration.",
        enforcement=Enforcement.MANDATORY,
        validate=_every_bucket_encrypted,
    ),
    StackPolicy(
        name="s3-versioned-bucket-lifecycle",
        description="Versioned buckets expire old versions and abort incomplete multipart uploads.",
        enforcement=Enforcement.MANDATORY,
        validate=_versioned_buckets_expire_old_data,
    ),
)
