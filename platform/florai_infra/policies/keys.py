"""KMS: customer-managed keys rotate their material yearly."""

from __future__ import annotations

from florai_infra.policies.model import Enforcement, Props, ReportResource, ResourcePolicy
from florai_infra.policies.props import is_true
from florai_infra.policies.resource_types import KMS_KEY


def _rotation(props: Props, report: ReportResource) -> None:
    if not is_true(props.get("enableKeyRotation")):
        report("enableKeyRotation is not true: the key material never rotates")


KEY_POLICIES = (
    ResourcePolicy(
        name="kms-key-rotation",
        description="KMS keys rotate their key material automatically.",
        enforcement=Enforcement.ADVISORY,
        resource_types=(KMS_KEY,),
        validate=_rotation,
    ),
)
