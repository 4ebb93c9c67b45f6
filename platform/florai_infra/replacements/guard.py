"""The stateful guard: replacing or deleting data-bearing resources needs an acknowledgement by name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from florai_infra.offline.plan import PlannedResource

ALLOW_VARIABLE = "ALLOW_REPLACE"

# Resources whose replacement loses data or identity that others hold on to.
STATEFUL: dict[str, str] = {
    "aws:rds/instance:Instance": "database",
    "aws:rds/cluster:Cluster": "database",
    "aws:elasticache/replicationGroup:ReplicationGroup": "cache",
    "aws:elasticache/cluster:Cluster": "cache",
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketV2:BucketV2": "bucket",
    "aws:kms/key:Key": "key",
    "aws:eks/cluster:Cluster": "cluster",
    "aws:ecr/repository:Repository": "registry",
}


@dataclass(frozen=True)
class GuardedChange:
    resource: PlannedResource
    category: str
    verb: str  # "replace" or "delete"
    acknowledged: bool
    protected: bool = False  # in the committed plan: `pulumi up` itself refuses until it is unprotected


PROTECTED_NOTE = "protected: pulumi up refuses until `pulumi state unprotect` lifts it"


def acknowledged_names(value: str | None) -> set[str]:
    """``ALLOW_REPLACE=database,cache`` (categories or resource names, comma or space separated)."""
    return {part.strip() for part in (value or "").replace(",", " ").split() if part.strip()}


def guarded_changes(
    replaced: Iterable[PlannedResource],
    removed: Iterable[PlannedResource],
    allowed: set[str],
    protected: frozenset[str] = frozenset(),
) -> list[GuardedChange]:
    """``protected``: URNs the committed plan protects."""
    found = []
    for verb, resources in (("replace", replaced), ("delete", removed)):
        for resource in resources:
            category = STATEFUL.get(resource.type)
            if category:
                ok = category in allowed or resource.name in allowed
                found.append(GuardedChange(resource, category, verb, ok, resource.urn in protected))
    return sorted(found, key=lambda g: (g.category, g.resource.urn))


def blocking(changes: list[GuardedChange]) -> bool:
    return any(not g.acknowledged for g in changes)
