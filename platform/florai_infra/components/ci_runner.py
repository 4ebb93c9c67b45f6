"""GitHub Actions runners inside the stack's VPC (CodeBuild-hosted), so CI reaches a private EKS API.

A workflow job with ``runs-on: codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}``
runs in a fresh CodeBuild build in the private subnets; the cluster's security group admits it on
443. GitHub reaches CodeBuild through an AWS CodeConnections connection: created here PENDING, a
person completes it once in the console (that installs the "AWS Connector for GitHub" app).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from florai_infra.components.iam_documents import document, service_trust_policy

RUNNER_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
RUNNER_COMPUTE = "BUILD_GENERAL1_MEDIUM"
HTTPS_PORT = 443
# Describe* take no resource-level permissions; the writes are scoped to the runner's own network.
NETWORK_DESCRIBE_ACTIONS = [
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
]


def runner_project_name(name_prefix: str) -> str:
    """The CodeBuild project; workflows name it in ``runs-on`` (codebuild-<this>-<run id>-<attempt>)."""
    return f"{name_prefix}-gha-runner"


@dataclass(frozen=True)
class CiRunnerArgs:
    name_prefix: str
    repository: str  # GitHub owner/name
    region: str
    account_id: str
    partition: str
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    cluster_security_group_id: pulumi.Input[str]
    log_retention_days: int
    log_key_arn: pulumi.Input[str]
    tags: dict[str, str]


class CiRunner(pulumi.ComponentResource):
    project_name: pulumi.Output[str]
    connection_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CiRunnerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:ci:CiRunner", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        project = runner_project_name(args.name_prefix)
        connection = aws.codeconnections.Connection(
            name, name=f"{args.name_prefix}-github", provider_type="GitHub", tags=args.tags, opts=child
        )
        logs = aws.cloudwatch.LogGroup(
            name,
            name=f"/aws/codebuild/{project}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_key_arn,
            tags=args.tags,
            opts=child,
        )
        group = aws.ec2.SecurityGroup(
            name,
            name=f"{args.name_prefix}-ci-runner",
            description="CI runners: no inbound; outbound HTTPS to GitHub, AWS APIs and the EKS API",
            vpc_id=args.vpc_id,
            egress=[
                {
                    "protocol": "tcp",
                    "from_port": HTTPS_PORT,
                    "to_port": HTTPS_PORT,
                    "cidr_blocks": ["0.0.0.0/0"],
                    "description": "HTTPS",
                }
            ],
            tags=args.tags,
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-eks-api",
            security_group_id=args.cluster_security_group_id,
            referenced_security_group_id=group.id,
            ip_protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            description="EKS API from the CI runners",
            tags=args.tags,
            opts=child,
        )
        role = aws.iam.Role(
            name,
            # Not <prefix>-ci-*: those are the OIDC roles the deploy role may never change.
            name=f"{args.name_prefix}-gha-runner",
            assume_role_policy=service_trust_policy("codebuild.amazonaws.com"),
            tags=args.tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            name, role=role.id, policy=runner_policy(args, logs.arn, connection.arn, group.id), opts=child
        )
        build = aws.codebuild.Project(
            name,
            name=project,
            description=f"GitHub Actions runners for {args.repository} inside the VPC",
            service_role=role.arn,
            source={
                "type": "GITHUB",
                "location": f"https://github.com/{args.repository}.git",
                "auth": {"type": "CODECONNECTIONS", "resource": connection.arn},
            },
            artifacts={"type": "NO_ARTIFACTS"},
            environment={
                "type": "LINUX_CONTAINER",
                "image": RUNNER_IMAGE,
                "compute_type": RUNNER_COMPUTE,
                "image_pull_credentials_type": "CODEBUILD",
            },
            vpc_config={"vpc_id": args.vpc_id, "subnets": args.subnet_ids, "security_group_ids": [group.id]},
            logs_config={"cloudwatch_logs": {"group_name": logs.name, "status": "ENABLED"}},
            build_timeout=60,
            tags=args.tags,
            opts=child,
        )
        aws.codebuild.Webhook(
            name,
            project_name=build.name,
            build_type="BUILD",
            filter_groups=[{"filters": [{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"}]}],
            opts=child,
        )
        self.project_name = build.name
        self.connection_arn = connection.arn
        self.register_outputs({"project_name": self.project_name, "connection_arn": self.connection_arn})


def runner_policy(
    a: CiRunnerArgs,
    log_group_arn: pulumi.Input[str],
    connection_arn: pulumi.Input[str],
    security_group_id: pulumi.Input[str],
) -> pulumi.Output[str]:
    """The runner itself holds no AWS rights of the pipeline: jobs assume the CI roles through OIDC."""
    ec2 = f"arn:{a.partition}:ec2:{a.region}:{a.account_id}"
    interfaces = f"{ec2}:network-interface/*"
    return document(
        [
            {
                "Sid": "BuildLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": pulumi.Output.concat(log_group_arn, ":*"),
            },
            {
                "Sid": "DescribeTheVpc",
                "Effect": "Allow",
                "Action": NETWORK_DESCRIBE_ACTIONS,
                "Resource": "*",
            },
            {
                "Sid": "BuildInterfacesInTheRunnerSubnets",
                "Effect": "Allow",
                "Action": "ec2:CreateNetworkInterface",
                "Resource": [
                    interfaces,
                    pulumi.Output.concat(ec2, ":security-group/", security_group_id),
                    *[pulumi.Output.concat(ec2, ":subnet/", subnet) for subnet in a.subnet_ids],
                ],
            },
            {
                "Sid": "RemoveBuildInterfaces",
                "Effect": "Allow",
                "Action": "ec2:DeleteNetworkInterface",
                "Resource": interfaces,
            },
            {
                "Sid": "AttachToOwnSubnets",
                "Effect": "Allow",
                "Action": "ec2:CreateNetworkInterfacePermission",
                "Resource": interfaces,
                "Condition": {"StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"}},
            },
            {
                "Sid": "GitHubConnection",
                "Effect": "Allow",
                "Action": ["codeconnections:GetConnectionToken", "codeconnections:UseConnection"],
                "Resource": connection_arn,
            },
        ]
    )
