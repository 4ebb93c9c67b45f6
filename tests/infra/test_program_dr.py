"""Disaster-recovery resources per stack: the copies runbooks/dr/region-loss.md rebuilds from."""

from __future__ import annotations

import json

import pytest

from florai_infra.config import ConfigError, settings_from_mapping
from florai_infra.offline.engine import load_stack_config
from tests.infra.stack_values import account_ids

DR_STACKS = ("staging", "prod")
PROVIDER = "pulumi:providers:aws"
BACKUPS = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
REPLICA = "dr-models"  # resource name of the replica bucket and its sub-resources


@pytest.fixture(params=DR_STACKS)
def dr_plan(request, staging_plan, prod_plan):
    return {"staging": staging_plan, "prod": prod_plan}[request.param]


def _account(plan) -> str:
    return account_ids(plan.stack)[0]


def _dr_region(plan) -> str:
    return load_stack_config(plan.stack)["florai:drRegion"]


def _dr_key_arn(plan, purpose: str) -> str:
    (key,) = [k for k in plan.by_type("aws:kms/key:Key") if k.inputs["tags"]["purpose"] == f"dr-{purpose}"]
    alias = plan.one("aws:kms/alias:Alias", f"dr-{purpose}").inputs
    assert alias["name"] == f"alias/florai-{plan.stack}-dr-{purpose}"
    arn = f"arn:aws:kms:{_dr_region(plan)}:{_account(plan)}:key/{alias['targetKeyId']}"
    assert key.inputs["enableKeyRotation"] is True
    return arn


def test_secondary_region_provider_and_every_dr_region_resource_uses_it(dr_plan):
    provider = dr_plan.one(PROVIDER)
    assert provider.inputs["region"] == _dr_region(dr_plan) != load_stack_config(dr_plan.stack)["aws:region"]
    in_dr = [
        *dr_plan.by_type("aws:kms/key:Key"),
        dr_plan.one(BACKUPS),
        dr_plan.one("aws:s3/bucket:Bucket", REPLICA),
        dr_plan.one("aws:s3/bucketVersioning:BucketVersioning", REPLICA),
    ]
    dr_keys = [r for r in in_dr if r.type != "aws:kms/key:Key" or r.name.startswith("dr-")]
    assert {r.provider for r in dr_keys} == {provider.urn}
    primary_keys = [k for k in dr_plan.by_type("aws:kms/key:Key") if not k.name.startswith("dr-")]
    assert primary_keys and all(k.provider != provider.urn for k in primary_keys)


def test_database_backups_replicate_encrypted_with_the_stack_retention(dr_plan):
    backups = dr_plan.one(BACKUPS).inputs
    database = dr_plan.one("aws:rds/instance:Instance").inputs
    assert (
        backups["sourceDbInstanceArn"]
        == f"arn:aws:rds:us-east-1:{_account(dr_plan)}:db:{database['identifier']}"
    )
    assert backups["kmsKeyId"] == _dr_key_arn(dr_plan, "rds")
    assert backups["retentionPeriod"] == database["backupRetentionPeriod"]


def test_images_replicate_to_the_secondary_region(dr_plan):
    (rule,) = dr_plan.one("aws:ecr/replicationConfiguration:ReplicationConfiguration").inputs[
        "replicationConfiguration"
    ]["rules"]
    assert rule["destinations"] == [{"region": _dr_region(dr_plan), "registryId": _account(dr_plan)}]
    (prefix,) = rule["repositoryFilters"]
    assert prefix["filterType"] == "PREFIX_MATCH"
    for repository in dr_plan.by_type("aws:ecr/repository:Repository"):
        assert repository.inputs["name"].startswith(prefix["filter"])
    assert prefix["filter"] == f"florai-{dr_plan.stack}/"  # this stack's images only


def test_replica_bucket_has_the_primary_bucket_protections(dr_plan):
    bucket = dr_plan.one("aws:s3/bucket:Bucket", REPLICA).inputs["bucket"]
    assert bucket == f"florai-{dr_plan.stack}-models-{_account(dr_plan)}-{_dr_region(dr_plan)}"
    versioning = dr_plan.one("aws:s3/bucketVersioning:BucketVersioning", REPLICA).inputs
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}
    block = dr_plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", REPLICA).inputs
    assert all(block[f] is True for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls"))
    assert block["restrictPublicBuckets"] is True
    (rule,) = dr_plan.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", REPLICA
    ).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": _dr_key_arn(dr_plan, "s3"),
    }
    policy = json.loads(dr_plan.one("aws:s3/bucketPolicy:BucketPolicy", REPLICA).inputs["policy"])
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(deny["Resource"]) == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}


def test_model_bucket_replicates_every_version_and_delete_marker(dr_plan):
    replication = dr_plan.one(REPLICATION, REPLICA)
    source = dr_plan.one("aws:s3/bucket:Bucket", "models").inputs["bucket"]
    replica = dr_plan.one("aws:s3/bucket:Bucket", REPLICA).inputs["bucket"]
    assert replication.inputs["bucket"] == source
    assert (
        replication.inputs["role"]
        == f"arn:aws:iam::{_account(dr_plan)}:role/florai-{dr_plan.stack}-models-replication"
    )
    (rule,) = replication.inputs["rules"]
    assert rule["status"] == "Enabled" and rule["filter"] == {"prefix": ""}
    assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    assert rule["destination"]["bucket"] == f"arn:aws:s3:::{replica}"
    assert rule["destination"]["encryptionConfiguration"] == {"replicaKmsKeyId": _dr_key_arn(dr_plan, "s3")}
    versionings = {
        dr_plan.one("aws:s3/bucketVersioning:BucketVersioning", bucket).urn for bucket in ("models", REPLICA)
    }
    assert versionings <= set(replication.dependencies)


def test_replication_role_is_least_privilege(dr_plan):
    role = dr_plan.one("aws:iam/role:Role", "dr-models-replication").inputs
    (trust,) = json.loads(role["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    statements = json.loads(
        dr_plan.one("aws:iam/rolePolicy:RolePolicy", "dr-models-replication").inputs["policy"]
    )["Statement"]
    source = dr_plan.one("aws:s3/bucket:Bucket", "models").inputs["bucket"]
    replica = dr_plan.one("aws:s3/bucket:Bucket", REPLICA).inputs["bucket"]
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["ReadSourceVersions"]["Resource"] == [f"arn:aws:s3:::{source}/*"]
    assert by_sid["WriteReplicas"]["Resource"] == [f"arn:aws:s3:::{replica}/*"]
    assert by_sid["EncryptReplicas"]["Resource"] == [_dr_key_arn(dr_plan, "s3")]
    assert by_sid["DecryptSourceObjects"]["Action"] == ["kms:Decrypt"]
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert "*" not in statement["Resource"] and not any(a.endswith(":*") for a in statement["Action"])


def test_dr_outputs_are_exported(dr_plan):
    region = _dr_region(dr_plan)
    assert dr_plan.outputs["drRegion"] == region
    assert (
        dr_plan.outputs["modelReplicaBucketName"]
        == dr_plan.one("aws:s3/bucket:Bucket", REPLICA).inputs["bucket"]
    )
    assert dr_plan.outputs["databaseBackupReplicationArn"].startswith(
        f"arn:aws:rds:{region}:{_account(dr_plan)}:auto-backup:"
    )


def test_dev_has_no_dr_copies(dev_plan):
    assert "florai:drRegion" not in load_stack_config("dev")
    assert (
        not dev_plan.by_type(PROVIDER) and not dev_plan.by_type(BACKUPS) and not dev_plan.by_type(REPLICATION)
    )
    assert not {"drRegion", "modelReplicaBucketName", "databaseBackupReplicationArn"} & set(dev_plan.outputs)


def _values(stack: str) -> dict:
    config = load_stack_config(stack)
    return {k.removeprefix("florai:"): v for k, v in config.items() if k.startswith("florai:")}


@pytest.mark.parametrize("stack", DR_STACKS)
def test_staging_and_prod_require_a_dr_region(stack):
    values = _values(stack)
    del values["drRegion"]
    with pytest.raises(ConfigError, match=rf"florai:drRegion: {stack} needs a secondary region") as error:
        settings_from_mapping(stack, values, "us-east-1", account_ids(stack))
    assert error.value.stack == stack


@pytest.mark.parametrize(
    ("dr_region", "message"),
    [
        ("us-east-1", "must differ from aws:region"),
        ("west", "is not an AWS region"),
        ("eu-east-1", "not an AWS"),
    ],
)
def test_dr_region_must_be_another_valid_region(dr_region, message):
    with pytest.raises(ConfigError, match=f"florai:drRegion: .*{message}"):
        settings_from_mapping(
            "prod", {**_values("prod"), "drRegion": dr_region}, "us-east-1", account_ids("prod")
        )


def test_dr_region_is_optional_in_dev():
    assert settings_from_mapping("dev", _values("dev"), "us-east-1", account_ids("dev")).dr_region is None
    assert settings_from_mapping(
        "dev", {**_values("dev"), "drRegion": "us-west-2"}, "us-east-1", account_ids("dev")
    ).dr_region == ("us-west-2")
