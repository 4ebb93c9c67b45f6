"""EKS access entries: which IAM principal may do what inside the cluster (API authentication mode)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

# EKS access policies (arn:aws:eks::aws:cluster-access-policy/<name>).
CLUSTER_ADMIN = "AmazonEKSClusterAdminPolicy"
VIEW = "AmazonEKSViewPolicy"


def access_policy_arn(partition: str, policy: str) -> str:
    return f"arn:{partition}:eks::aws:cluster-access-policy/{policy}"


def grant_cluster_access(
    name: str,
    cluster_name: pulumi.Input[str],
    principal_arn: pulumi.Input[str],
    policy: str,
    partition: str,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.eks.AccessPolicyAssociation:
    """One access entry for ``principal_arn`` with one cluster-wide access policy."""
    entry = aws.eks.AccessEntry(
        name,
        cluster_name=cluster_name,
        principal_arn=principal_arn,
        type="STANDARD",
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return aws.eks.AccessPolicyAssociation(
        name,
        cluster_name=cluster_name,
        principal_arn=entry.principal_arn,
        policy_arn=access_policy_arn(partition, policy),
        access_scope={"type": "cluster"},
        opts=pulumi.ResourceOptions(parent=parent),
    )
