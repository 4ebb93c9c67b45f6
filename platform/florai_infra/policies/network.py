"""VPCs: the default security group is taken over by the program and left without rules."""

from __future__ import annotations

from collections.abc import Sequence

from florai_infra.policies.model import Enforcement, ReportStack, StackPolicy, StackResource
from florai_infra.policies.props import as_list
from florai_infra.policies.resource_types import DEFAULT_SECURITY_GROUP, VPC


def _default_group_closed(resources: Sequence[StackResource], report: ReportStack) -> None:
    groups = [r for r in resources if r.type == DEFAULT_SECURITY_GROUP]
    for vpc in (r for r in resources if r.type == VPC):
        mine = [g for g in groups if vpc.urn in g.dependencies]
        if not mine:
            report(
                f"VPC {vpc.name} leaves its default security group unmanaged (AWS allows all within it)",
                vpc.urn,
            )
        for group in mine:
            if as_list(group.props.get("ingress")) or as_list(group.props.get("egress")):
                report(f"default security group {group.name} has rules: manage it with none", group.urn)


NETWORK_STACK_POLICIES = (
    StackPolicy(
        name="vpc-default-security-group-closed",
        description="Every VPC's default security group is managed with no ingress or egress rules.",
        enforcement=Enforcement.MANDATORY,
        validate=_default_group_closed,
    ),
)
