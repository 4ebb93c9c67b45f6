"""EKS managed add-ons, pinned per Kubernetes version (the EBS CSI driver with its IRSA role)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

ADDONS = ("vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver")
# These run as pods and need schedulable nodes before they can turn healthy.
NEEDS_NODES = ("coredns", "aws-ebs-csi-driver")


@dataclass(frozen=True)
class AddonsArgs:
    cluster_name: pulumi.Input[str]
    kubernetes_version: str
    ebs_csi_role_arn: pulumi.Input[str]
    node_groups: list[pulumi.Resource]
    tags: dict[str, str]


class Addons(pulumi.ComponentResource):
    versions: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: AddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:cluster:Addons", name, None, opts)
        self.versions = {}
        for addon in ADDONS:
            version = aws.eks.get_addon_version_output(
                addon_name=addon, kubernetes_version=args.kubernetes_version, most_recent=True
            ).version
            aws.eks.Addon(
                f"{name}-{addon}",
                cluster_name=args.cluster_name,
                addon_name=addon,
                addon_version=version,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                service_account_role_arn=args.ebs_csi_role_arn if addon == "aws-ebs-csi-driver" else None,
                tags=args.tags,
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=args.node_groups if addon in NEEDS_NODES else []
                ),
            )
            self.versions[addon] = version
        self.register_outputs({"versions": self.versions})
