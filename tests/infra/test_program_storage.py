"""Model store bucket and ECR repository: private, encrypted, TLS-only, immutable, lifecycle-managed."""

from __future__ import annotations

import json

import pytest

from florai_infra import names
from florai_infra.offline.engine import load_stack_config

LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def test_bucket_blocks_all_public_access(plan):
    block = plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "models").inputs
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    assert all(block[f] is True for f in flags)


def test_bucket_is_versioned_kms_encrypted_with_bucket_key_and_owner_enforced(plan):
    assert plan.one("aws:s3/bucketVersioning:BucketVersioning", "models").inputs[
        "versioningConfiguration"
    ] == {"status": "Enabled"}
    (rule,) = plan.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "models"
    ).inputs["rules"]
    default = rule["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms" and default["kmsMasterKeyId"].startswith("arn:aws:kms:")
    assert rule["bucketKeyEnabled"] is True
    ownership = plan.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "models").inputs
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"


def test_bucket_policy_denies_insecure_transport(plan):
    bucket = plan.one("aws:s3/bucket:Bucket", "models").inputs["bucket"]
    policy = json.loads(plan.one("aws:s3/bucketPolicy:BucketPolicy", "models").inputs["policy"])
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert set(deny["Resource"]) == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}


def test_ecr_repositories_are_immutable_scanned_and_kms_encrypted(plan):
    repos = plan.by_type("aws:ecr/repository:Repository")
    assert sorted(r.inputs["name"] for r in repos) == sorted(names.image_repositories(plan.stack))
    for repo in (r.inputs for r in repos):
        assert repo["imageTagMutability"] == "IMMUTABLE"
        assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repo["encryptionConfigurations"][0]["encryptionType"] == "KMS"
        assert repo["encryptionConfigurations"][0]["kmsKey"].startswith("arn:aws:kms:")


@pytest.mark.parametrize("component", ["registry", "ui-registry"])
def test_ecr_lifecycle_keeps_n_tagged_and_expires_untagged(plan, component):
    registry = load_stack_config(plan.stack).get("florai:registry", {})
    rules = json.loads(plan.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", component).inputs["policy"])[
        "rules"
    ]
    by_status = {r["selection"]["tagStatus"]: r["selection"] for r in rules}
    assert by_status["untagged"]["countType"] == "sinceImagePushed"
    assert by_status["tagged"]["countType"] == "imageCountMoreThan"
    assert by_status["tagged"]["countNumber"] == registry.get("keepTaggedImages", 30)
    assert all(r["action"] == {"type": "expire"} for r in rules)


def test_model_bucket_expires_old_versions_uploads_and_kept_images(plan):
    rules = {r["id"]: r for r in plan.one(LIFECYCLE, "models").inputs["rules"]}
    assert rules["expire-old-versions"]["noncurrentVersionExpiration"]["noncurrentDays"] > 0
    assert rules["expire-old-versions"]["abortIncompleteMultipartUpload"]["daysAfterInitiation"] > 0
    images = rules["expire-consented-images"]
    assert images["filter"] == {"prefix": "consented-images/"}
    assert images["expiration"]["days"] == load_stack_config(plan.stack).get("florai:imageRetentionDays", 365)


def test_dev_keeps_consented_images_30_days_elsewhere_the_default_year(dev_plan, prod_plan):
    assert _image_days(dev_plan) == 30 and _image_days(prod_plan) == 365


def _image_days(plan) -> int:
    rules = plan.one(LIFECYCLE, "models").inputs["rules"]
    return next(r for r in rules if r["id"] == "expire-consented-images")["expiration"]["days"]


def test_model_bucket_access_is_logged_to_a_locked_down_bucket(plan):
    logging = plan.one("aws:s3/bucketLogging:BucketLogging", "models").inputs
    target = plan.one("aws:s3/bucket:Bucket", "models-access-logs").inputs["bucket"]
    assert logging["targetBucket"] == target and logging["bucket"] == plan.outputs["modelBucketName"]
    policy = json.loads(plan.one("aws:s3/bucketPolicy:BucketPolicy", "models-access-logs").inputs["policy"])
    (delivery,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert (
        delivery["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:s3:::{plan.outputs['modelBucketName']}"
    )
    block = plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "models-access-logs").inputs
    assert all(
        block[f] is True
        for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    assert plan.one(LIFECYCLE, "models-access-logs").inputs["rules"][0]["expiration"]["days"] > 0
