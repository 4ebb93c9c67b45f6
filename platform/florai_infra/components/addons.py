"""EKS managed add-ons at the versions pinned per Kubernetes version (config / upstream table).

The VPC CNI runs with its own IRSA role (not the node role) and enforces NetworkPolicies; the
EBS CSI driver has its IRSA role. No version is looked up at deploy time: an upgrade is a diff.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# These run as pods and need schedulable nodes before they can turn healthy.
NEEDS_NODES = ("coredns", "aws-ebs-csi-driver")
# The VPC CNI's network policy agent: Kubernetes NetworkPolicies are enforced only with this on.
VPC_CNI_CONFIGURATION = {"enableNetworkPolicy": "true"}


@dataclass(frozen=True)
class AddonsArgs:
    cluster_name: pulumi.Input[str]
    versions: dict[str, str]  # add-on name -> pinned version
    role_arns: dict[str, pulumi.Input[str]]  # add-on name -> its IRSA role
    node_groups: list[pulumi.Resource]
    tags: dict[str, str]


def configuration(addon: str) -> str | None:
    return json.dumps(VPC_CNI_CONFIGURATION, sort_keys=True) if addon == "vpc-cni" else None


class Addons(pulumi.ComponentResource):
    versions: dict[str, str]

    def __init__(self, name: str, args: AddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:cluster:Addons", name, None, opts)
        self.versions = dict(sorted(args.versions.items()))
        for addon, version in self.versions.items():
            aws.eks.Addon(
                f"{name}-{addon}",
                cluster_name=args.cluster_name,
                addon_name=addon,
                addon_version=version,
                configuration_values=configuration(addon),
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                service_account_role_arn=args.role_arns.get(addon),
                tags=args.tags,
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=args.node_groups if addon in NEEDS_NODES else []
                ),
            )
        self.register_outputs({"versions": self.versions})
