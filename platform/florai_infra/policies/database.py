"""RDS: encrypted with our KMS key, private, backed up, and highly available outside dev."""

from __future__ import annotations

from florai_infra.policies.model import Enforcement, Props, ReportResource, ResourcePolicy
from florai_infra.policies.props import is_dev, is_true
from florai_infra.policies.resource_types import RDS_CLUSTER, RDS_INSTANCE

MIN_BACKUP_RETENTION_DAYS = 7


def _encrypted_at_rest(props: Props, report: ReportResource) -> None:
    if not is_true(props.get("storageEncrypted")):
        report("storageEncrypted is not true: storage, snapshots and backups are unencrypted")
    if not props.get("kmsKeyId"):
        report("kmsKeyId is not set: encrypt with the platform's customer-managed KMS key")


def _not_public(props: Props, report: ReportResource) -> None:
    if is_true(props.get("publiclyAccessible")):
        report("publiclyAccessible is true: the database gets a public address")


def _backups(props: Props, report: ReportResource) -> None:
    days = props.get("backupRetentionPeriod")
    if not isinstance(days, int | float) or days < MIN_BACKUP_RETENTION_DAYS:
        report(f"backupRetentionPeriod is {days!r}: keep at least {MIN_BACKUP_RETENTION_DAYS} days")


def _resilient_outside_dev(props: Props, report: ReportResource) -> None:
    if is_dev(props):
        return
    if not is_true(props.get("multiAz")):
        report("multiAz is not true outside dev: one AZ outage takes the database down")
    if not is_true(props.get("deletionProtection")):
        report("deletionProtection is not true outside dev")


RDS_POLICIES = (
    ResourcePolicy(
        name="rds-encrypted-at-rest",
        description="RDS storage is encrypted with a customer-managed KMS key.",
        enforcement=Enforcement.MANDATORY,
        resource_types=(RDS_INSTANCE, RDS_CLUSTER),
        validate=_encrypted_at_rest,
    ),
    ResourcePolicy(
        name="rds-not-public",
        description="RDS instances are not publicly accessible.",
        enforcement=Enforcement.MANDATORY,
        resource_types=(RDS_INSTANCE,),
        validate=_not_public,
    ),
    ResourcePolicy(
        name="rds-backup-retention",
        description=f"RDS keeps automated backups for at least {MIN_BACKUP_RETENTION_DAYS} days.",
        enforcement=Enforcement.MANDATORY,
        resource_types=(RDS_INSTANCE, RDS_CLUSTER),
        validate=_backups,
    ),
    ResourcePolicy(
        name="rds-resilient-outside-dev",
        description="Outside dev, RDS is Multi-AZ and has deletion protection.",
        enforcement=Enforcement.MANDATORY,
        resource_types=(RDS_INSTANCE,),
        validate=_resilient_outside_dev,
    ),
)
