"""EKS control plane, access entries, OIDC provider for IRSA, node role and node groups."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from florai_infra.components.cluster_access import CLUSTER_ADMIN, grant_cluster_access
from florai_infra.components.iam_documents import managed_policy_arn, service_trust_policy
from florai_infra.components.node_groups import NodeGroupArgs, node_group
from florai_infra.config import ClusterSettings

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
# The VPC CNI's policy (AmazonEKS_CNI_Policy) is on its own IRSA role, not on every node.
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly")


@dataclass(frozen=True)
class ClusterArgs:
    settings: ClusterSettings
    cluster_name: str
    environment: str
    region: str
    partition: str
    private_subnet_ids: list[pulumi.Input[str]]
    secrets_key_arn: pulumi.Input[str]
    ebs_key_arn: pulumi.Input[str]
    log_key_arn: pulumi.Input[str]
    log_retention_days: int
    protect: bool  # outside dev: `pulumi destroy` and replacements stop at the cluster
    tags: dict[str, str]


class Cluster(pulumi.ComponentResource):
    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    certificate_authority: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer_host: pulumi.Output[str]
    node_security_group_id: pulumi.Output[str]
    node_groups: list[aws.eks.NodeGroup]
    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:cluster:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = args.settings

        role = aws.iam.Role(
            f"{name}-control-plane",
            name=f"{args.cluster_name}-control-plane",
            assume_role_policy=service_trust_policy("eks.amazonaws.com"),
            tags=args.tags,
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-control-plane",
            role=role.name,
            policy_arn=managed_policy_arn(args.partition, "AmazonEKSClusterPolicy"),
            opts=child,
        )
        # Created first so EKS writes into a group with our retention and key, not its own.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane",
            name=f"/aws/eks/{args.cluster_name}/cluster",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_key_arn,
            tags=args.tags,
            opts=child,
        )
        cluster = aws.eks.Cluster(
            name,
            name=args.cluster_name,
            version=s.kubernetes_version,
            role_arn=role.arn,
            vpc_config={
                "subnet_ids": args.private_subnet_ids,
                "endpoint_private_access": True,
                "endpoint_public_access": s.endpoint_public_access,
                "public_access_cidrs": list(s.public_access_cidrs) if s.endpoint_public_access else None,
            },
            access_config={
                "authentication_mode": "API",
                "bootstrap_cluster_creator_admin_permissions": False,
            },
            encryption_config={"provider": {"key_arn": args.secrets_key_arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
            bootstrap_self_managed_addons=False,  # vpc-cni, coredns, kube-proxy come as managed add-ons
            deletion_protection=args.environment != "dev",
            upgrade_policy={"support_type": "STANDARD"},
            tags=args.tags,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[attachment, log_group], protect=args.protect
            ),
        )
        self._access_entries(name, args, cluster)

        issuer = cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
        oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=issuer,
            client_id_lists=["sts.amazonaws.com"],
            tags=args.tags,
            opts=child,
        )

        node_role = aws.iam.Role(
            f"{name}-nodes",
            name=f"{args.cluster_name}-nodes",
            assume_role_policy=service_trust_policy("ec2.amazonaws.com"),
            tags=args.tags,
            opts=child,
        )
        node_attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-nodes-{policy}",
                role=node_role.name,
                policy_arn=managed_policy_arn(args.partition, policy),
                opts=child,
            )
            for policy in NODE_POLICIES
        ]
        self.node_groups = []
        for group, gpu in [(s.system_node_group, False)] + [(g, True) for g in s.gpu_node_groups]:
            ng_args = NodeGroupArgs(
                settings=group,
                gpu=gpu,
                cluster_name=cluster.name,
                node_role_arn=node_role.arn,
                subnet_ids=args.private_subnet_ids,
                ebs_key_arn=args.ebs_key_arn,
                kubernetes_version=s.kubernetes_version,
                release_version=s.node_release_version or "",
                name_prefix=args.cluster_name,
                tags=args.tags,
            )
            # Nodes must not start before their role can pull images and join the cluster.
            self.node_groups.append(node_group(f"{name}-{group.name}", ng_args, self, node_attachments))
        self.name = cluster.name
        self.endpoint = cluster.endpoint
        self.certificate_authority = cluster.certificate_authority.apply(lambda ca: ca.data)
        self.oidc_provider_arn = oidc.arn
        self.oidc_issuer_host = issuer.apply(lambda url: url.removeprefix("https://"))
        # Managed nodes without a custom security group join the EKS-created cluster group.
        self.node_security_group_id = cluster.vpc_config.apply(lambda v: v.cluster_security_group_id)
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(cluster.name, cluster.endpoint, self.certificate_authority).apply(
                lambda a: kubeconfig(a[0], a[1], a[2], args.region)
            )
        )
        self.register_outputs(
            {
                "name": self.name,
                "endpoint": self.endpoint,
                "oidc_provider_arn": self.oidc_provider_arn,
                "node_security_group_id": self.node_security_group_id,
            }
        )

    def _access_entries(self, name: str, args: ClusterArgs, cluster: aws.eks.Cluster) -> None:
        for i, role_arn in enumerate(args.settings.admin_role_arns):
            grant_cluster_access(
                f"{name}-admin-{i}", cluster.name, role_arn, CLUSTER_ADMIN, args.partition, args.tags, self
            )


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig that gets short-lived tokens from ``aws eks get-token`` (no static credentials)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}
            ],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )
