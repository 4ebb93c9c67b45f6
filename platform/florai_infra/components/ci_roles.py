"""GitHub Actions OIDC: the roles the workflows assume, trusted only from this repository's
GitHub environments, each with the least it needs (image push, image promotion, Pulumi preview/up).

Every job that assumes a role runs in a GitHub environment, so its token's ``sub`` is
``repo:<owner>/<name>:environment:<environment>``: the trust policies match that exactly, and the
environments' deployment-branch rules (``main`` only, reviewers on staging/prod) scope the refs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from florai_infra import names
from florai_infra.components.cluster_access import CLUSTER_ADMIN, VIEW, grant_cluster_access
from florai_infra.components.iam_documents import document, managed_policy_arn, web_identity_trust_policy

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
# GitHub's intermediate CA thumbprints; IAM no longer checks them for this issuer but the API wants one.
GITHUB_OIDC_THUMBPRINTS = [
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
    "6938fd4d98bab03faadb97b34396831e3780aea1",
]

IMAGE_PUSH = "image-push"
IMAGE_PROMOTE = "image-promote"
PULUMI_PREVIEW = "pulumi-preview"
PULUMI_DEPLOY = "pulumi-deploy"

ECR_PULL = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:DescribeImages",
    "ecr:GetDownloadUrlForLayer",
]
ECR_PUSH = [
    *ECR_PULL,
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
]
# Services the program manages; the deploy role gets them only in the stack's regions.
DEPLOYED_SERVICES = [
    "acm",
    "codebuild",
    "codeconnections",
    "ec2",
    "ecr",
    "eks",
    "elasticache",
    "kms",
    "logs",
    "rds",
    "s3",
    "secretsmanager",
    "wafv2",
]
IAM_ROLE_MANAGEMENT = [
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:ListRolePolicies",
    "iam:PassRole",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
]
OIDC_PROVIDER_MANAGEMENT = [
    "iam:AddClientIDToOpenIDConnectProvider",
    "iam:CreateOpenIDConnectProvider",
    "iam:DeleteOpenIDConnectProvider",
    "iam:GetOpenIDConnectProvider",
    "iam:RemoveClientIDFromOpenIDConnectProvider",
    "iam:TagOpenIDConnectProvider",
    "iam:UntagOpenIDConnectProvider",
    "iam:UpdateOpenIDConnectProviderThumbprint",
]
# The AWS-managed policies the program attaches (cluster, nodes, EBS CSI): nothing else is attachable.
ATTACHABLE_MANAGED_POLICIES = [
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEKSClusterPolicy",
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "service-role/AmazonEBSCSIDriverPolicy",
    "service-role/AmazonGrafanaCloudWatchAccess",
    "service-role/AmazonRDSEnhancedMonitoringRole",
]
SERVICE_LINKED = [
    "autoscaling.amazonaws.com",
    "eks-nodegroup.amazonaws.com",
    "eks.amazonaws.com",
    "elasticache.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "rds.amazonaws.com",
]


@dataclass(frozen=True)
class CiRolesArgs:
    environment: str
    repository: str  # GitHub owner/name
    create_oidc_provider: bool
    regions: list[str]  # the stack's region, then its DR region if any
    account_id: str
    partition: str
    repository_arns: list[pulumi.Input[str]]  # this stack's ECR repositories (API image, UI image)
    cluster_name: pulumi.Input[str]
    hosted_zone_id: str
    image_source_account_id: str | None  # the previous environment's account (promotion source)
    tags: dict[str, str]

    @property
    def prefix(self) -> str:
        return names.resource_prefix(self.environment)

    def iam_arn(self, resource: str) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:{resource}"

    def ecr_arn(self, repository: str, account_id: str | None = None) -> str:
        account = account_id or self.account_id
        return f"arn:{self.partition}:ecr:{self.regions[0]}:{account}:repository/{repository}"

    def subject(self, github_environment: str) -> str:
        return f"repo:{self.repository}:environment:{github_environment}"


def ci_role_keys(environment: str) -> list[str]:
    """CI pushes new images into the first environment; the others receive promoted ones."""
    image = IMAGE_PROMOTE if environment in names.PROMOTED_FROM else IMAGE_PUSH
    return [image, PULUMI_PREVIEW, PULUMI_DEPLOY]


def ecr_login() -> dict:
    # GetAuthorizationToken has no resource-level permissions.
    return {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}


def image_push_policy(a: CiRolesArgs) -> list[dict]:
    return [
        ecr_login(),
        {"Sid": "PushOwnRepository", "Effect": "Allow", "Action": ECR_PUSH, "Resource": a.repository_arns},
    ]


def image_promote_policy(a: CiRolesArgs) -> list[dict]:
    sources = names.image_repositories(names.PROMOTED_FROM[a.environment])
    return [
        ecr_login(),
        {
            "Sid": "PullSourceRepository",
            "Effect": "Allow",
            "Action": ECR_PULL,
            "Resource": [a.ecr_arn(source, a.image_source_account_id) for source in sources],
        },
        {"Sid": "PushOwnRepository", "Effect": "Allow", "Action": ECR_PUSH, "Resource": a.repository_arns},
    ]


def pulumi_preview_policy(a: CiRolesArgs) -> list[dict]:
    # ReadOnlyAccess (attached) can read data as well as configuration; a preview needs none of it.
    return [
        {
            "Sid": "NoDataReads",
            "Effect": "Deny",
            "Action": ["kms:Decrypt", "s3:GetObject", "s3:GetObjectVersion", "secretsmanager:GetSecretValue"],
            "Resource": "*",
        }
    ]


def pulumi_deploy_policy(a: CiRolesArgs) -> list[dict]:
    own_roles = a.iam_arn(f"role/{a.prefix}-*")
    ci_roles = a.iam_arn(f"role/{a.prefix}-ci-*")
    return [
        {"Sid": "WhoAmI", "Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"},
        {
            "Sid": "StackServicesInStackRegions",
            "Effect": "Allow",
            "Action": [f"{service}:*" for service in DEPLOYED_SERVICES] + ["ssm:GetParameter"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": a.regions}},
        },
        {
            # Route 53 is global (its calls are not in the stack's region): only the stack's zone.
            "Sid": "StackHostedZone",
            "Effect": "Allow",
            "Action": [
                "route53:ChangeResourceRecordSets",
                "route53:GetHostedZone",
                "route53:ListResourceRecordSets",
                "route53:ListTagsForResource",
            ],
            "Resource": f"arn:{a.partition}:route53:::hostedzone/{a.hosted_zone_id}",
        },
        {
            "Sid": "Route53Changes",
            "Effect": "Allow",
            "Action": "route53:GetChange",
            "Resource": f"arn:{a.partition}:route53:::change/*",
        },
        {"Sid": "StackRoles", "Effect": "Allow", "Action": IAM_ROLE_MANAGEMENT, "Resource": own_roles},
        {
            "Sid": "AttachOnlyTheProgramsManagedPolicies",
            "Effect": "Deny",
            "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            "Resource": own_roles,
            "Condition": {
                "ArnNotEquals": {
                    "iam:PolicyARN": [managed_policy_arn(a.partition, p) for p in ATTACHABLE_MANAGED_POLICIES]
                }
            },
        },
        {
            "Sid": "OidcProviders",
            "Effect": "Allow",
            "Action": OIDC_PROVIDER_MANAGEMENT,
            "Resource": [
                a.iam_arn(f"oidc-provider/oidc.eks.{region}.amazonaws.com/id/*") for region in a.regions
            ]
            + [a.iam_arn(f"oidc-provider/{GITHUB_OIDC_HOST}")],
        },
        {
            "Sid": "ServiceLinkedRoles",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": a.iam_arn("role/aws-service-role/*"),
            "Condition": {"StringEquals": {"iam:AWSServiceName": SERVICE_LINKED}},
        },
        {
            # The CI roles are changed by an admin only: a workflow must not widen its own rights.
            "Sid": "NoChangesToTheCiRoles",
            "Effect": "Deny",
            "Action": [a for a in IAM_ROLE_MANAGEMENT if not a.startswith(("iam:Get", "iam:List"))],
            "Resource": ci_roles,
        },
    ]


POLICIES = {
    IMAGE_PUSH: image_push_policy,
    IMAGE_PROMOTE: image_promote_policy,
    PULUMI_PREVIEW: pulumi_preview_policy,
    PULUMI_DEPLOY: pulumi_deploy_policy,
}
# GitHub environment of the jobs that assume each role (pulumi-stack.yml previews in <env>-preview).
GITHUB_ENVIRONMENT = {
    IMAGE_PUSH: "{env}",
    IMAGE_PROMOTE: "{env}",
    PULUMI_PREVIEW: "{env}-preview",
    PULUMI_DEPLOY: "{env}",
}
MANAGED_POLICIES = {PULUMI_PREVIEW: "ReadOnlyAccess"}
# Inside the cluster: the deploy role installs Argo CD (CRDs, cluster roles), so it must be cluster
# admin; the preview role only reads (no Secrets: AmazonEKSViewPolicy).
CLUSTER_ACCESS = {PULUMI_DEPLOY: CLUSTER_ADMIN, PULUMI_PREVIEW: VIEW}


class CiRoles(pulumi.ComponentResource):
    oidc_provider_arn: pulumi.Output[str]
    role_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: CiRolesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:identity:CiRoles", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if args.create_oidc_provider:
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-github",
                url=f"https://{GITHUB_OIDC_HOST}",
                client_id_lists=[GITHUB_OIDC_AUDIENCE],
                thumbprint_lists=GITHUB_OIDC_THUMBPRINTS,
                tags=args.tags,
                opts=child,
            )
            self.oidc_provider_arn = provider.arn
        else:
            # Another stack of this account owns the provider; its ARN is fixed by the issuer host.
            self.oidc_provider_arn = pulumi.Output.from_input(
                args.iam_arn(f"oidc-provider/{GITHUB_OIDC_HOST}")
            )
        self.role_arns = {}
        for key in ci_role_keys(args.environment):
            github_environment = GITHUB_ENVIRONMENT[key].format(env=args.environment)
            role = aws.iam.Role(
                f"{name}-{key}",
                name=f"{args.prefix}-ci-{key}",
                description=f"GitHub Actions ({args.repository}, environment {github_environment}): {key}",
                assume_role_policy=web_identity_trust_policy(
                    self.oidc_provider_arn,
                    GITHUB_OIDC_HOST,
                    GITHUB_OIDC_AUDIENCE,
                    [args.subject(github_environment)],
                ),
                max_session_duration=3600,
                tags={**args.tags, "github-environment": github_environment},
                opts=child,
            )
            aws.iam.RolePolicy(
                f"{name}-{key}", name=key, role=role.id, policy=document(POLICIES[key](args)), opts=child
            )
            if key in MANAGED_POLICIES:
                aws.iam.RolePolicyAttachment(
                    f"{name}-{key}-managed",
                    role=role.name,
                    policy_arn=managed_policy_arn(args.partition, MANAGED_POLICIES[key]),
                    opts=child,
                )
            if key in CLUSTER_ACCESS:
                grant_cluster_access(
                    f"{name}-{key}-cluster",
                    args.cluster_name,
                    role.arn,
                    CLUSTER_ACCESS[key],
                    args.partition,
                    args.tags,
                    self,
                )
            self.role_arns[key] = role.arn
        self.register_outputs({"oidc_provider_arn": self.oidc_provider_arn, "role_arns": self.role_arns})
