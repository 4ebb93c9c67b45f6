"""FlorAI policies: pure checks over resource props, shared by the offline preview and CrossGuard.

``RESOURCE_POLICIES`` and ``STACK_POLICIES`` are the whole pack; importing this package never
starts a policy server (``crossguard.py`` only wraps; ``platform/policy-pack`` serves).
"""

from __future__ import annotations

from florai_infra.policies.cache import REDIS_POLICIES
from florai_infra.policies.cluster import CLUSTER_POLICIES
from florai_infra.policies.database import RDS_POLICIES
from florai_infra.policies.edge import EDGE_POLICIES
from florai_infra.policies.keys import KEY_POLICIES
from florai_infra.policies.model import Enforcement, ResourcePolicy, StackPolicy, StackResource
from florai_infra.policies.network import NETWORK_STACK_POLICIES
from florai_infra.policies.nodes import NODE_POLICIES, NODE_STACK_POLICIES
from florai_infra.policies.protection import PROTECTION_POLICIES
from florai_infra.policies.registry import REGISTRY_POLICIES
from florai_infra.policies.storage import S3_POLICIES, S3_STACK_POLICIES
from florai_infra.policies.tags import TAG_POLICIES
from florai_infra.policies.versions import VERSION_POLICIES

RESOURCE_POLICIES: tuple[ResourcePolicy, ...] = (
    *RDS_POLICIES,
    *REDIS_POLICIES,
    *S3_POLICIES,
    *CLUSTER_POLICIES,
    *NODE_POLICIES,
    *EDGE_POLICIES,
    *REGISTRY_POLICIES,
    *KEY_POLICIES,
    *TAG_POLICIES,
    *VERSION_POLICIES,
)
STACK_POLICIES: tuple[StackPolicy, ...] = (
    *S3_STACK_POLICIES,
    *NODE_STACK_POLICIES,
    *NETWORK_STACK_POLICIES,
    *PROTECTION_POLICIES,
)

__all__ = [
    "RESOURCE_POLICIES",
    "STACK_POLICIES",
    "Enforcement",
    "ResourcePolicy",
    "StackPolicy",
    "StackResource",
]
