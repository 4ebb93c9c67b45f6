"""Stateful resources are protected outside dev, and retained on delete where data lives."""

from __future__ import annotations

from collections.abc import Sequence

from florai_infra.policies.model import Enforcement, ReportStack, StackPolicy, StackResource
from florai_infra.policies.props import is_dev
from florai_infra.policies.resource_types import (
    ECR_REPOSITORY,
    EKS_CLUSTER,
    KMS_KEY,
    RDS_CLUSTER,
    RDS_INSTANCE,
    REDIS_GROUP,
    S3_BUCKETS,
)

# Losing one of these loses data (or the key to it): protected and retained.
HOLDS_DATA = (RDS_INSTANCE, RDS_CLUSTER, *S3_BUCKETS, KMS_KEY, ECR_REPOSITORY)
# Rebuilt only at a cost (the cluster and what runs on it; the cache's warm state): protected.
STATEFUL = (*HOLDS_DATA, EKS_CLUSTER, REDIS_GROUP)


def _protected(resources: Sequence[StackResource], report: ReportStack) -> None:
    for r in resources:
        # None: the engine did not record resource options, so there is nothing to judge.
        if r.type not in STATEFUL or is_dev(r.props) or r.protect is None:
            continue
        if not r.protect:
            report(f"{r.type} {r.name} is not protected: a destroy or replacement would delete it", r.urn)
        elif r.type in HOLDS_DATA and r.retain_on_delete is False:
            report(f"{r.type} {r.name} is not retained on delete: its data would go with it", r.urn)


PROTECTION_POLICIES = (
    StackPolicy(
        name="stateful-resources-protected",
        description="Outside dev, data stores, keys, the registry and the cluster are protected.",
        enforcement=Enforcement.MANDATORY,
        validate=_protected,
    ),
)
