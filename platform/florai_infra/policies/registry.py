"""ECR: tags are immutable (a deployed tag always means the same image) and images are scanned."""

from __future__ import annotations

from florai_infra.policies.model import Enforcement, Props, ReportResource, ResourcePolicy
from florai_infra.policies.props import dig, is_true
from florai_infra.policies.resource_types import ECR_REPOSITORY

IMMUTABLE = "IMMUTABLE"


def _immutable_and_scanned(props: Props, report: ReportResource) -> None:
    mutability = props.get("imageTagMutability")
    if mutability != IMMUTABLE:
        report(f"imageTagMutability is {mutability!r}: use {IMMUTABLE!r} so a tag cannot be re-pointed")
    if not is_true(dig(props, "imageScanningConfiguration", "scanOnPush")):
        report("imageScanningConfiguration.scanOnPush is not true: pushed images are never scanned")


REGISTRY_POLICIES = (
    ResourcePolicy(
        name="ecr-immutable-scanned",
        description="ECR repositories have immutable tags and scan on push.",
        enforcement=Enforcement.MANDATORY,
        resource_types=(ECR_REPOSITORY,),
        validate=_immutable_and_scanned,
    ),
)
