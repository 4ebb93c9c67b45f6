"""Security groups of the data stores: one TCP port, reachable from the EKS nodes and nothing else."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def node_only_security_group(
    resource_name: str,
    *,
    group_name: str,
    service: str,
    port: int,
    vpc_id: pulumi.Input[str],
    node_security_group_id: pulumi.Input[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.ec2.SecurityGroup:
    """A security group whose only ingress is ``service`` on ``port`` from the node security group."""
    return aws.ec2.SecurityGroup(
        resource_name,
        name=group_name,
        description=f"{service} from the EKS nodes only",
        vpc_id=vpc_id,
        ingress=[
            {
                "protocol": "tcp",
                "from_port": port,
                "to_port": port,
                "security_groups": [node_security_group_id],
                "description": f"{service} from EKS nodes",
            }
        ],
        tags=tags,
        opts=opts,
    )
