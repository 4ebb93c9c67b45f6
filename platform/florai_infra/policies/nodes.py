"""EKS nodes: GPU groups tainted, launch templates with IMDSv2 and encrypted EBS, every group templated."""

from __future__ import annotations

import re
from collections.abc import Sequence

from florai_infra.policies.model import (
    Enforcement,
    Props,
    ReportResource,
    ReportStack,
    ResourcePolicy,
    StackPolicy,
    StackResource,
)
from florai_infra.policies.props import as_list, dig, is_true
from florai_infra.policies.resource_types import EKS_NODE_GROUP, LAUNCH_TEMPLATE

GPU_INSTANCE_FAMILY = re.compile(r"^(g4dn|g5g?|g6e?|gr6|p\d+[a-z]*)\.")
GPU_AMI_MARKERS = ("GPU", "NVIDIA")
GPU_TAINT_KEY = "nvidia.com/gpu"
NO_SCHEDULE = "NOSCHEDULE"  # EKS writes NO_SCHEDULE, Kubernetes NoSchedule: compare normalised
IMDS_REQUIRED = "required"


def is_gpu_node_group(props: Props) -> bool:
    types = [t for t in as_list(props.get("instanceTypes")) if isinstance(t, str)]
    ami = props.get("amiType") or ""
    return any(GPU_INSTANCE_FAMILY.match(t) for t in types) or any(m in str(ami) for m in GPU_AMI_MARKERS)


def _gpu_tainted(props: Props, report: ReportResource) -> None:
    if not is_gpu_node_group(props):
        return
    for taint in as_list(props.get("taints")):
        effect = str(dig(taint, "effect") or "").replace("_", "").upper()
        if dig(taint, "key") == GPU_TAINT_KEY and effect == NO_SCHEDULE:
            return
    report(f"GPU node group has no {GPU_TAINT_KEY} NoSchedule taint: CPU pods would land on GPU nodes")


def _imdsv2(props: Props, report: ReportResource) -> None:
    tokens = dig(props, "metadataOptions", "httpTokens")
    if tokens != IMDS_REQUIRED:
        report(f"metadataOptions.httpTokens is {tokens!r}: require IMDSv2 ('{IMDS_REQUIRED}')")


def _ebs_encrypted(props: Props, report: ReportResource) -> None:
    mappings = as_list(props.get("blockDeviceMappings"))
    if not mappings:
        report("blockDeviceMappings is empty: the root volume takes the AMI default (unencrypted)")
    for mapping in mappings:
        device = dig(mapping, "deviceName") or "?"
        if dig(mapping, "ebs") is not None and not is_true(dig(mapping, "ebs", "encrypted")):
            report(f"EBS volume {device} is not encrypted")


def _every_group_templated(resources: Sequence[StackResource], report: ReportStack) -> None:
    templates = {r.urn for r in resources if r.type == LAUNCH_TEMPLATE}
    for group in (r for r in resources if r.type == EKS_NODE_GROUP):
        if not group.props.get("launchTemplate"):
            report(
                f"node group {group.name} has no launchTemplate: IMDSv2 and EBS encryption unset", group.urn
            )
        elif not templates.intersection(group.dependencies):
            report(f"node group {group.name} uses a launch template not declared in this stack", group.urn)


NODE_POLICIES = (
    ResourcePolicy(
        name="gpu-node-group-tainted",
        description=f"GPU node groups carry the {GPU_TAINT_KEY} NoSchedule taint.",
        enforcement=Enforcement.MANDATORY,
        resource_types=(EKS_NODE_GROUP,),
        validate=_gpu_tainted,
    ),
    ResourcePolicy(
        name="launch-template-imdsv2",
        description="Launch templates require IMDSv2 (metadataOptions.httpTokens = required).",
        enforcement=Enforcement.MANDATORY,
        resource_types=(LAUNCH_TEMPLATE,),
        validate=_imdsv2,
    ),
    ResourcePolicy(
        name="launch-template-ebs-encrypted",
        description="Launch templates encrypt every EBS volume.",
        enforcement=Enforcement.MANDATORY,
        resource_types=(LAUNCH_TEMPLATE,),
        validate=_ebs_encrypted,
    ),
)

NODE_STACK_POLICIES = (
    StackPolicy(
        name="node-group-launch-template",
        description="Every EKS node group uses a launch template declared in the stack.",
        enforcement=Enforcement.MANDATORY,
        validate=_every_group_templated,
    ),
)
