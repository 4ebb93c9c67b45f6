"""florai_ops.restore against moto: the PITR copies the source's placement and protection settings."""

from __future__ import annotations

import time
from datetime import timedelta

import boto3
import pytest
from moto import mock_aws

from florai_infra import names
from florai_ops.restore import (
    APP_DEPLOYMENTS,
    RestoreError,
    cutover_steps,
    execute,
    main,
    parse_target_time,
    plan_restore,
    restore_identifier,
)

REGION = "us-east-1"


@pytest.fixture
def rds(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield boto3.client("rds", region_name=REGION)


def _create_source(rds, env: str = "prod") -> dict:
    """The stack's instance as the Pulumi program creates it (database.py), in moto."""
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.30.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in enumerate("ab")
    ]
    group = ec2.create_security_group(GroupName=f"florai-{env}-db", Description="db", VpcId=vpc)["GroupId"]
    key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    rds.create_db_subnet_group(
        DBSubnetGroupName=f"florai-{env}", DBSubnetGroupDescription="db", SubnetIds=subnets
    )
    rds.create_db_parameter_group(
        DBParameterGroupName=f"florai-{env}-postgres16", DBParameterGroupFamily="postgres16", Description="p"
    )
    rds.create_db_instance(
        DBInstanceIdentifier=f"florai-{env}",
        Engine="postgres",
        DBInstanceClass="db.r6g.large",
        AllocatedStorage=100,
        StorageType="gp3",
        StorageEncrypted=True,
        KmsKeyId=key,
        MasterUsername="florai_admin",
        ManageMasterUserPassword=True,
        MasterUserSecretKmsKeyId=key,
        DBSubnetGroupName=f"florai-{env}",
        VpcSecurityGroupIds=[group],
        DBParameterGroupName=f"florai-{env}-postgres16",
        MultiAZ=True,
        DeletionProtection=True,
        BackupRetentionPeriod=14,
        EnableIAMDatabaseAuthentication=True,
        Tags=[{"Key": "environment", "Value": env}],
    )
    return rds.describe_db_instances(DBInstanceIdentifier=f"florai-{env}")["DBInstances"][0]


def _restorable_target(source: dict):
    time.sleep(1.1)  # moto's latest restorable time is "now": leave a second after creation
    return (source["InstanceCreateTime"] + timedelta(seconds=1)).replace(microsecond=0)


def test_restore_creates_a_new_instance_with_the_source_settings(rds) -> None:
    source = _create_source(rds)
    target = _restorable_target(source)
    plan = plan_restore(rds, "prod", target)
    restored = execute(rds, plan)

    assert plan.target == restore_identifier("prod", target) == f"florai-prod-restore-{target:%Y%m%d-%H%M%S}"
    assert restored["DBInstanceIdentifier"] == plan.target and restored["DBInstanceStatus"] == "available"
    assert restored["DBSubnetGroup"]["DBSubnetGroupName"] == "florai-prod"
    assert [g["VpcSecurityGroupId"] for g in restored["VpcSecurityGroups"]] == [
        g["VpcSecurityGroupId"] for g in source["VpcSecurityGroups"]
    ]
    assert restored["DBParameterGroups"][0]["DBParameterGroupName"] == "florai-prod-postgres16"
    assert restored["MultiAZ"] is True and restored["DeletionProtection"] is True
    assert restored["DBInstanceClass"] == "db.r6g.large"
    assert restored["KmsKeyId"] == source["KmsKeyId"]
    assert plan.request["MasterUserSecretKmsKeyId"] == source["MasterUserSecret"]["KmsKeyId"]
    # The source is untouched: still there, still protected.
    assert rds.describe_db_instances(DBInstanceIdentifier="florai-prod")["DBInstances"][0][
        "DeletionProtection"
    ]


def test_target_time_outside_the_restorable_window_is_refused(rds) -> None:
    source = _create_source(rds, "staging")
    with pytest.raises(RestoreError, match="outside florai-staging's restorable window"):
        plan_restore(rds, "staging", source["InstanceCreateTime"] - timedelta(hours=1))
    with pytest.raises(RestoreError, match="outside"):
        plan_restore(rds, "staging", source["LatestRestorableTime"] + timedelta(hours=1))


def test_unknown_stack_instance_is_a_clear_error(rds) -> None:
    with pytest.raises(RestoreError, match="no RDS instance 'florai-dev'"):
        plan_restore(rds, "dev", parse_target_time("2026-11-23T03:00:00Z"))


def test_target_time_needs_a_zone() -> None:
    assert parse_target_time("2026-11-23T03:00:00Z").utcoffset() == timedelta(0)
    with pytest.raises(RestoreError, match="no time zone"):
        parse_target_time("2026-11-23T03:00:00")
    with pytest.raises(RestoreError, match="not an ISO-8601"):
        parse_target_time("yesterday")


def test_cli_dry_run_restores_nothing_and_full_run_prints_the_cutover(rds, capsys) -> None:
    source = _create_source(rds)
    target = _restorable_target(source).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert main(["--env", "prod", "--target-time", target, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run: nothing restored" in out and "florai-prod-restore-" in out
    assert len(rds.describe_db_instances()["DBInstances"]) == 1

    assert main(["--env", "prod", "--target-time", target]) == 0
    out = capsys.readouterr().out
    assert len(rds.describe_db_instances()["DBInstances"]) == 2
    assert "externalsecret florai-database" in out and "argocd app sync florai-prod" in out
    for deployment in APP_DEPLOYMENTS:
        assert f"deployment/{deployment}" in out


def test_cli_refuses_a_time_outside_the_window(rds, capsys) -> None:
    _create_source(rds)
    assert main(["--env", "prod", "--target-time", "2020-01-01T00:00:00Z", "--dry-run"]) == 2
    assert "restorable window" in capsys.readouterr().err


def test_cutover_names_the_restored_endpoint(rds) -> None:
    source = _create_source(rds)
    plan = plan_restore(rds, "prod", _restorable_target(source))
    steps = "\n".join(cutover_steps(plan, execute(rds, plan)))
    # The cutover goes through the GitOps bridge (the cluster Secret's annotations), not a file in git.
    assert plan.target in steps and f"{names.BRIDGE_DATABASE_ENDPOINT}=" in steps
    assert "stack-outputs" not in steps
