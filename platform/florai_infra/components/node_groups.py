"""EKS managed node groups, each with a launch template: IMDSv2 only and an encrypted gp3 root."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from florai_infra.config import NodeGroupSettings

GPU_AMI_TYPE = "AL2023_x86_64_NVIDIA"
SYSTEM_AMI_TYPE = "AL2023_x86_64_STANDARD"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}
GPU_LABEL = {"nvidia.com/gpu.present": "true"}
ROOT_DEVICE = "/dev/xvda"
# Hop limit 1: pods (one hop further) cannot reach instance metadata, so none can take the node
# role's credentials. No agent here needs 2: aws-node (VPC CNI) runs on the host network, the
# load balancer controller gets region and VPC from its values and credentials from IRSA, and
# the EBS CSI driver falls back to the Kubernetes API for its node metadata.
IMDS_HOP_LIMIT = 1


@dataclass(frozen=True)
class NodeGroupArgs:
    settings: NodeGroupSettings
    gpu: bool
    cluster_name: pulumi.Input[str]
    node_role_arn: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    ebs_key_arn: pulumi.Input[str]
    kubernetes_version: str
    release_version: str  # EKS AMI release, e.g. 1.35.6-20260714: nodes change only when this does
    name_prefix: str
    tags: dict[str, str]


def launch_template(name: str, args: NodeGroupArgs, parent: pulumi.Resource) -> aws.ec2.LaunchTemplate:
    node_tags = {**args.tags, "Name": f"{args.name_prefix}-{args.settings.name}"}
    return aws.ec2.LaunchTemplate(
        name,
        name=f"{args.name_prefix}-{args.settings.name}",
        description=f"{args.settings.name} nodes: IMDSv2 only, encrypted gp3 root volume",
        update_default_version=True,
        metadata_options={
            "http_endpoint": "enabled",
            "http_tokens": "required",
            "http_put_response_hop_limit": IMDS_HOP_LIMIT,
        },
        block_device_mappings=[
            {
                "device_name": ROOT_DEVICE,
                "ebs": {
                    "volume_size": args.settings.disk_size_gib,
                    "volume_type": "gp3",
                    "encrypted": "true",
                    "kms_key_id": args.ebs_key_arn,
                    "delete_on_termination": "true",
                },
            }
        ],
        tag_specifications=[
            {"resource_type": "instance", "tags": node_tags},
            {"resource_type": "volume", "tags": node_tags},
        ],
        tags=args.tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def node_group(
    name: str, args: NodeGroupArgs, parent: pulumi.Resource, depends_on: list[pulumi.Resource]
) -> aws.eks.NodeGroup:
    s = args.settings
    template = launch_template(name, args, parent)
    return aws.eks.NodeGroup(
        name,
        cluster_name=args.cluster_name,
        node_group_name=s.name,
        node_role_arn=args.node_role_arn,
        subnet_ids=args.subnet_ids,
        ami_type=GPU_AMI_TYPE if args.gpu else SYSTEM_AMI_TYPE,
        version=args.kubernetes_version,
        release_version=args.release_version,
        capacity_type="ON_DEMAND",
        instance_types=list(s.instance_types),
        scaling_config={"min_size": s.min_size, "max_size": s.max_size, "desired_size": s.desired_size},
        update_config={"max_unavailable": 1},
        labels={"florai.io/node-pool": s.name, **(GPU_LABEL if args.gpu else {})},
        taints=[GPU_TAINT] if args.gpu else [],
        launch_template={"id": template.id, "version": template.latest_version.apply(str)},
        tags=args.tags,
        # The cluster autoscaler owns the desired size once the group exists.
        opts=pulumi.ResourceOptions(
            parent=parent, depends_on=depends_on, ignore_changes=["scalingConfig.desiredSize"]
        ),
    )
