"""RDS point-in-time restore of a stack's database to a NEW instance: the production path of
runbooks/dr/database-pitr.md.

    python -m florai_ops.restore --env prod --target-time 2026-11-23T03:00:00Z [--dry-run]

The new instance (``florai-<env>-restore-<YYYYmmdd-HHMMSS>``) gets the source's subnet group, security
groups, parameter group, instance class, multi-AZ and deletion protection; RDS keeps the source's KMS
key for an encrypted restore. The source is never touched. The script waits for the instance to be
available and prints the cut-over steps (the application still points at the old instance until then).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from florai_infra import names
from florai_infra.names import NAMESPACE_APPS, resource_prefix, secret_prefix

DEFAULT_REGION = "us-east-1"
APP_DEPLOYMENTS = ("florai-identify", "florai-diagnose", "florai-growth-stage", "florai-consent")
WAIT_DELAY_S = 30
WAIT_MAX_ATTEMPTS = 120  # an hour: large restores replay many transaction logs


class RestoreError(ValueError):
    """The restore cannot be done as asked (unknown instance, target time outside the window)."""


def parse_target_time(value: str) -> datetime:
    """An ISO-8601 time with an explicit zone (``Z`` or ``+00:00``), as an aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RestoreError(
            f"--target-time {value!r} is not an ISO-8601 time like 2026-11-23T03:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        raise RestoreError(f"--target-time {value!r} has no time zone: write it in UTC with a trailing Z")
    return parsed.astimezone(UTC)


def restore_identifier(environment: str, target: datetime) -> str:
    return f"{resource_prefix(environment)}-restore-{target:%Y%m%d-%H%M%S}"


@dataclass(frozen=True)
class RestorePlan:
    environment: str
    source: str
    target: str
    target_time: datetime
    earliest: datetime
    latest: datetime
    kms_key_id: str | None
    request: dict[str, Any]  # the restore_db_instance_to_point_in_time arguments

    def lines(self) -> list[str]:
        r = self.request
        return [
            f"restore {self.source} to {self.target_time.isoformat()} as NEW instance {self.target}",
            f"restorable window: {self.earliest.isoformat()} .. {self.latest.isoformat()}",
            f"class {r['DBInstanceClass']}, subnet group {r['DBSubnetGroupName']}, "
            f"security groups {', '.join(r['VpcSecurityGroupIds'])}, "
            f"parameter group {r['DBParameterGroupName']}",
            f"multi-AZ {r['MultiAZ']}, deletion protection {r['DeletionProtection']}, "
            f"KMS key {self.kms_key_id} (kept from the source)",
        ]


def plan_restore(rds, environment: str, target_time: datetime) -> RestorePlan:
    """Read the source instance, validate the target time and build the restore request."""
    source_id = resource_prefix(environment)
    try:
        source = rds.describe_db_instances(DBInstanceIdentifier=source_id)["DBInstances"][0]
    except rds.exceptions.DBInstanceNotFoundFault:
        raise RestoreError(
            f"no RDS instance {source_id!r} (stack {environment}) in this account/region"
        ) from None
    latest = source.get("LatestRestorableTime")
    if latest is None:
        raise RestoreError(f"{source_id} has no restorable time: are automated backups enabled?")
    retention = source.get("BackupRetentionPeriod", 0)
    created = source["InstanceCreateTime"]
    earliest = max(created, latest - timedelta(days=retention))
    if not earliest <= target_time <= latest:
        raise RestoreError(
            f"target time {target_time.isoformat()} is outside {source_id}'s restorable window "
            f"{earliest.isoformat()} .. {latest.isoformat()} (latest restorable time moves every ~5 min)"
        )
    target = restore_identifier(environment, target_time)
    request: dict[str, Any] = {
        "SourceDBInstanceIdentifier": source_id,
        "TargetDBInstanceIdentifier": target,
        "RestoreTime": target_time,
        "DBInstanceClass": source["DBInstanceClass"],
        "DBSubnetGroupName": source["DBSubnetGroup"]["DBSubnetGroupName"],
        "VpcSecurityGroupIds": [g["VpcSecurityGroupId"] for g in source["VpcSecurityGroups"]],
        "DBParameterGroupName": source["DBParameterGroups"][0]["DBParameterGroupName"],
        "MultiAZ": source["MultiAZ"],
        "DeletionProtection": source.get("DeletionProtection", False),
        "PubliclyAccessible": False,
        "StorageType": source.get("StorageType", "gp3"),
        "EnableIAMDatabaseAuthentication": source.get("IAMDatabaseAuthenticationEnabled", False),
        "CopyTagsToSnapshot": source.get("CopyTagsToSnapshot", True),
        "Tags": [
            *source.get("TagList", []),
            {"Key": "restored-from", "Value": f"{source_id}@{target_time:%Y%m%dT%H%M%SZ}"},
        ],
    }
    secret = source.get("MasterUserSecret")
    if secret:  # the restored instance gets its own RDS-managed secret, under the same KMS key
        request["ManageMasterUserPassword"] = True
        request["MasterUserSecretKmsKeyId"] = secret["KmsKeyId"]
    return RestorePlan(
        environment, source_id, target, target_time, earliest, latest, source.get("KmsKeyId"), request
    )


def execute(rds, plan: RestorePlan, wait: bool = True) -> dict[str, Any]:
    """Start the restore; with ``wait``, block until the new instance is available. Returns it."""
    rds.restore_db_instance_to_point_in_time(**plan.request)
    if wait:
        rds.get_waiter("db_instance_available").wait(
            DBInstanceIdentifier=plan.target,
            WaiterConfig={"Delay": WAIT_DELAY_S, "MaxAttempts": WAIT_MAX_ATTEMPTS},
        )
    return rds.describe_db_instances(DBInstanceIdentifier=plan.target)["DBInstances"][0]


def cutover_steps(plan: RestorePlan, restored: dict[str, Any] | None) -> list[str]:
    env, ns = plan.environment, NAMESPACE_APPS
    endpoint = restored["Endpoint"]["Address"] if restored and restored.get("Endpoint") else "<new endpoint>"
    secret = (restored or {}).get("MasterUserSecret", {}).get("SecretArn", "<new master secret ARN>")
    return [
        f"1. Verify the data on {plan.target} ({endpoint}) with psql: "
        "the rows the incident removed are back.",
        f"2. Stop writes to the old instance: kubectl -n {ns} scale deployment/florai-consent --replicas=0",
        "3. Point the app at the restored instance (GitOps bridge: the endpoint and secret reach the app "
        "only through the Argo CD cluster Secret, which the next pulumi up rewrites from the stack): "
        f"kubectl -n {names.NAMESPACE_ARGOCD} annotate secret in-cluster "
        f"{names.BRIDGE_DATABASE_ENDPOINT}={endpoint}:5432 "
        f"{names.BRIDGE_DATABASE_SECRET_ARN}={secret} --overwrite; "
        f"then: argocd app sync florai-{env}",
        f"4. Refresh the secret now: kubectl -n {ns} annotate externalsecret florai-database "
        "force-sync=$(date +%s) --overwrite",
        "5. Restart the apps: "
        + "; ".join(f"kubectl -n {ns} rollout restart deployment/{d}" for d in APP_DEPLOYMENTS)
        + f" (Argo Rollouts in {env}: kubectl argo rollouts restart <name> -n {ns})",
        f"6. Check: kubectl -n {ns} rollout status deployment/florai-consent; "
        "curl /readyz; consent writes succeed.",
        f"7. Keep {plan.source} (deletion protection) until the incident review; then bring the Pulumi stack "
        "in line (runbooks/dr/database-pitr.md, 'After the cut-over'). "
        f"Secrets live under {secret_prefix(env)}.",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m florai_ops.restore", description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, choices=("dev", "staging", "prod"))
    parser.add_argument("--target-time", required=True, help="UTC, e.g. 2026-11-23T03:00:00Z")
    parser.add_argument("--region", default=DEFAULT_REGION)
    parser.add_argument("--dry-run", action="store_true", help="validate and print the plan; restore nothing")
    parser.add_argument("--no-wait", action="store_true", help="start the restore and return")
    args = parser.parse_args(argv)

    import boto3  # imported here so --help works without AWS libraries configured

    rds = boto3.client("rds", region_name=args.region)
    try:
        plan = plan_restore(rds, args.env, parse_target_time(args.target_time))
    except RestoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in plan.lines():
        print(line)
    if args.dry_run:
        print("dry run: nothing restored")
        return 0
    restored = execute(rds, plan, wait=not args.no_wait)
    print(f"{plan.target}: {restored['DBInstanceStatus']}")
    print("cut-over:")
    for line in cutover_steps(plan, restored):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
