"""Versions: EKS in standard support (the vendored EKS calendar), add-ons and node AMIs pinned."""

from __future__ import annotations

import datetime as dt
import re

from florai_infra import upstream
from florai_infra.policies.model import Enforcement, Props, ReportResource, ResourcePolicy
from florai_infra.policies.resource_types import EKS_ADDON, EKS_CLUSTER, EKS_NODE_GROUP

ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")
AMI_RELEASE = re.compile(r"^\d+\.\d+\.\d+-\d{8}$")


def standard_support_days_left(version: str, today: dt.date) -> int | None:
    """Days until ``version`` leaves EKS standard support (negative: already out); None: unknown."""
    entry = upstream.eks_calendar().get(version)
    return None if entry is None else (entry["end_of_standard_support"] - today).days


def _in_standard_support(props: Props, report: ReportResource) -> None:
    version = str(props.get("version"))
    left = standard_support_days_left(version, dt.date.today())
    if left is None:
        report(
            f"Kubernetes {version} is not in the EKS release calendar (platform/upstream/eks/calendar.yaml)"
        )
    elif left < 0:
        report(
            f"Kubernetes {version} left EKS standard support {-left} days ago: AWS will upgrade it for you"
        )


def _addon_pinned(props: Props, report: ReportResource) -> None:
    version = props.get("addonVersion")
    if not isinstance(version, str) or not ADDON_VERSION.match(version):
        report(f"addonVersion is {version!r}: pin an EKS add-on build (vX.Y.Z-eksbuild.N)")


def _ami_pinned(props: Props, report: ReportResource) -> None:
    release = props.get("releaseVersion")
    if not isinstance(release, str) or not AMI_RELEASE.match(release):
        report(f"releaseVersion is {release!r}: pin the EKS AMI release (e.g. 1.35.6-20260714)")
    elif props.get("version") and not release.startswith(f"{props['version']}."):
        report(f"releaseVersion {release} is not an AMI of Kubernetes {props['version']}")


VERSION_POLICIES = (
    ResourcePolicy(
        name="eks-supported-version",
        description="EKS runs a Kubernetes version in standard support (EKS release calendar).",
        enforcement=Enforcement.MANDATORY,
        resource_types=(EKS_CLUSTER,),
        validate=_in_standard_support,
    ),
    ResourcePolicy(
        name="eks-addon-version-pinned",
        description="Every EKS managed add-on is pinned to one build, never resolved at deploy time.",
        enforcement=Enforcement.MANDATORY,
        resource_types=(EKS_ADDON,),
        validate=_addon_pinned,
    ),
    ResourcePolicy(
        name="node-ami-release-pinned",
        description="Every managed node group pins its EKS AMI release version.",
        enforcement=Enforcement.MANDATORY,
        resource_types=(EKS_NODE_GROUP,),
        validate=_ami_pinned,
    ),
)
