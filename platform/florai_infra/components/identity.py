"""IAM roles for service accounts (IRSA): one role per service account, least-privilege policies."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from florai_infra import names, upstream
from florai_infra.components.iam_documents import document, irsa_trust_policy, managed_policy_arn

KMS_USE = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
SECRET_READ = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]


@dataclass(frozen=True)
class ServiceRolesArgs:
    name_prefix: str
    environment: str
    region: str
    account_id: str
    partition: str
    cluster_name: str
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer_host: pulumi.Input[str]
    model_bucket_arn: pulumi.Input[str]
    model_key_arn: pulumi.Input[str]
    secrets_key_arn: pulumi.Input[str]
    ebs_key_arn: pulumi.Input[str]
    database_secret_arn: pulumi.Input[str]
    database_identifier: str
    web_acl_arn: pulumi.Input[str]
    hosted_zone_id: str
    log_group_arn: pulumi.Input[str]
    tags: dict[str, str]

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account_id}:{resource}"

    @property
    def florai_secrets_arn(self) -> str:
        return self.arn("secretsmanager", f"secret:{names.secret_prefix(self.environment)}*")


def inference_policy(a: ServiceRolesArgs) -> list[dict]:
    own_secrets = a.arn("secretsmanager", f"secret:{names.secret_prefix(a.environment)}inference/*")
    return [
        {"Sid": "ListModels", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": a.model_bucket_arn},
        {
            "Sid": "ReadModels",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": pulumi.Output.concat(a.model_bucket_arn, "/*"),
        },
        {"Sid": "DecryptModels", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": a.model_key_arn},
        {"Sid": "ReadOwnSecrets", "Effect": "Allow", "Action": SECRET_READ, "Resource": own_secrets},
    ]


def external_secrets_policy(a: ServiceRolesArgs) -> list[dict]:
    return [
        {
            "Sid": "ReadFloraiSecrets",
            "Effect": "Allow",
            "Action": [*SECRET_READ, "secretsmanager:ListSecretVersionIds"],
            "Resource": [a.florai_secrets_arn, a.database_secret_arn],
        },
        {
            "Sid": "DecryptFloraiSecrets",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": a.secrets_key_arn,
        },
    ]


def cluster_autoscaler_policy(a: ServiceRolesArgs) -> list[dict]:
    return [
        {
            "Sid": "Discover",
            "Effect": "Allow",
            "Action": [
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
                "eks:DescribeNodegroup",
            ],
            "Resource": "*",
        },
        {
            "Sid": "ScaleOwnGroups",
            "Effect": "Allow",
            "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            "Resource": a.arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/*"),
            # EKS tags every managed node group's ASG with this key; other clusters' groups are out of reach.
            "Condition": {
                "StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{a.cluster_name}": "owned"}
            },
        },
    ]


def ebs_csi_key_policy(a: ServiceRolesArgs) -> list[dict]:
    return [
        {
            "Sid": "GrantsForVolumes",
            "Effect": "Allow",
            "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
            "Resource": a.ebs_key_arn,
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
        {"Sid": "UseVolumeKey", "Effect": "Allow", "Action": KMS_USE, "Resource": a.ebs_key_arn},
    ]


def load_balancer_controller_policy(a: ServiceRolesArgs) -> list[dict]:
    """The controller's own policy at the pinned version (platform/upstream/iam), unchanged.

    Its writes are already conditioned on the elbv2.k8s.aws/cluster tag the controller sets; a
    hand-narrowed copy once left targets unreachable (no ingress rules on the cluster's group).
    """
    return upstream.iam_policy("aws-load-balancer-controller")["Statement"]


def external_dns_policy(a: ServiceRolesArgs) -> list[dict]:
    # Upstream's policy (platform/upstream/iam/external-dns.json) allows every zone; ours one zone.
    return [
        {
            "Sid": "ManageStackZoneRecords",
            "Effect": "Allow",
            "Action": [
                "route53:ChangeResourceRecordSets",
                "route53:ListResourceRecordSets",
                "route53:ListTagsForResources",
            ],
            "Resource": f"arn:{a.partition}:route53:::hostedzone/{a.hosted_zone_id}",
        },
        {"Sid": "FindZones", "Effect": "Allow", "Action": "route53:ListHostedZones", "Resource": "*"},
    ]


def cloudwatch_exporter_policy(a: ServiceRolesArgs) -> list[dict]:
    # YACE's documented minimum for static and discovery jobs: read metrics and resource tags only.
    actions = upstream.iam_sources()["yace-cloudwatch-exporter.json"]["minimum_actions"]
    return [{"Sid": "ReadMetricsAndTags", "Effect": "Allow", "Action": sorted(actions), "Resource": "*"}]


def log_shipper_policy(a: ServiceRolesArgs) -> list[dict]:
    return [
        {
            "Sid": "WriteStackLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": [a.log_group_arn, pulumi.Output.concat(a.log_group_arn, ":*")],
        }
    ]


def backup_exporter_policy(a: ServiceRolesArgs) -> list[dict]:
    db = a.arn("rds", f"db:{a.database_identifier}")
    # Automated snapshots are named rds:<instance>-<time>; manual and final ones <instance>-<suffix>.
    snapshots = [
        a.arn("rds", f"snapshot:rds:{a.database_identifier}-*"),
        a.arn("rds", f"snapshot:{a.database_identifier}-*"),
    ]
    return [
        {
            "Sid": "DescribeOwnInstance",
            "Effect": "Allow",
            "Action": "rds:DescribeDBInstances",
            "Resource": db,
        },
        {
            "Sid": "DescribeOwnSnapshots",
            "Effect": "Allow",
            "Action": "rds:DescribeDBSnapshots",
            "Resource": [db, *snapshots],
        },
        {
            # Retained automated backups are named by a random ab-... id, unknown before they exist:
            # the narrowest resource IAM can express is every auto-backup of this account and region.
            "Sid": "DescribeAutomatedBackups",
            "Effect": "Allow",
            "Action": "rds:DescribeDBInstanceAutomatedBackups",
            "Resource": [db, a.arn("rds", "auto-backup:*")],
        },
    ]


# Service account -> its inline policy; the EBS CSI driver and the VPC CNI get AWS-managed ones.
POLICIES = {
    names.INFERENCE: inference_policy,
    names.LOAD_BALANCER_CONTROLLER: load_balancer_controller_policy,
    names.EXTERNAL_SECRETS: external_secrets_policy,
    names.CLUSTER_AUTOSCALER: cluster_autoscaler_policy,
    names.EBS_CSI: ebs_csi_key_policy,
    names.BACKUP_EXPORTER: backup_exporter_policy,
    names.EXTERNAL_DNS: external_dns_policy,
    names.CLOUDWATCH_EXPORTER: cloudwatch_exporter_policy,
    names.LOG_SHIPPER: log_shipper_policy,
}
MANAGED_POLICIES = {
    names.EBS_CSI: "service-role/AmazonEBSCSIDriverPolicy",
    names.VPC_CNI: "AmazonEKS_CNI_Policy",
    # AWS's own policy for Grafana's CloudWatch data source: read metrics, alarms and log queries.
    names.GRAFANA: "service-role/AmazonGrafanaCloudWatchAccess",
}


class ServiceRoles(pulumi.ComponentResource):
    role_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ServiceRolesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:identity:ServiceRoles", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role_arns = {}
        for account in names.IRSA_SERVICE_ACCOUNTS:
            role = aws.iam.Role(
                f"{name}-{account.key}",
                name=f"{args.name_prefix}-{account.key}",
                description=f"IRSA role of {account.subject}",
                assume_role_policy=irsa_trust_policy(
                    args.oidc_provider_arn, args.oidc_issuer_host, account.subject
                ),
                tags={**args.tags, "service-account": f"{account.namespace}.{account.name}"},
                opts=child,
            )
            if account in POLICIES:
                aws.iam.RolePolicy(
                    f"{name}-{account.key}",
                    name=account.key,
                    role=role.id,
                    policy=document(POLICIES[account](args)),
                    opts=child,
                )
            if account in MANAGED_POLICIES:
                aws.iam.RolePolicyAttachment(
                    f"{name}-{account.key}-managed",
                    role=role.name,
                    policy_arn=managed_policy_arn(args.partition, MANAGED_POLICIES[account]),
                    opts=child,
                )
            self.role_arns[account.key] = role.arn
        self.register_outputs({"role_arns": self.role_arns})
