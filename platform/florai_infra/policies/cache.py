"""ElastiCache Redis: encrypted at rest and in transit, AUTH on, failover outside dev."""

from __future__ import annotations

from florai_infra.policies.model import Enforcement, Props, ReportResource, ResourcePolicy
from florai_infra.policies.props import is_dev, is_true
from florai_infra.policies.resource_types import REDIS_GROUP


def _encrypted_at_rest(props: Props, report: ReportResource) -> None:
    if not is_true(props.get("atRestEncryptionEnabled")):
        report("atRestEncryptionEnabled is not true: cache data and snapshots are unencrypted on disk")


def _transit_and_auth(props: Props, report: ReportResource) -> None:
    if not is_true(props.get("transitEncryptionEnabled")):
        report("transitEncryptionEnabled is not true: clients talk to Redis in plaintext")
    if not props.get("authToken"):
        report("authToken is not set: any client in the VPC can use Redis without a password")


def _failover_outside_dev(props: Props, report: ReportResource) -> None:
    if is_dev(props):
        return
    if not is_true(props.get("automaticFailoverEnabled")):
        report("automaticFailoverEnabled is not true outside dev: a primary failure is an outage")
    if not is_true(props.get("multiAzEnabled")):
        report("multiAzEnabled is not true outside dev: replicas may share the primary's AZ")


REDIS_POLICIES = (
    ResourcePolicy(
        name="redis-encrypted-at-rest",
        description="ElastiCache replication groups are encrypted at rest.",
        enforcement=Enforcement.MANDATORY,
        resource_types=(REDIS_GROUP,),
        validate=_encrypted_at_rest,
    ),
    ResourcePolicy(
        name="redis-transit-encryption-and-auth",
        description="Redis requires TLS in transit and an AUTH token.",
        enforcement=Enforcement.MANDATORY,
        resource_types=(REDIS_GROUP,),
        validate=_transit_and_auth,
    ),
    ResourcePolicy(
        name="redis-failover-outside-dev",
        description="Outside dev, Redis has automatic failover across AZs.",
        enforcement=Enforcement.MANDATORY,
        resource_types=(REDIS_GROUP,),
        validate=_failover_outside_dev,
    ),
)
