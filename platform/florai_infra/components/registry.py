"""ECR repository for the inference image: immutable tags, scan on push, KMS, lifecycle policy."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from florai_infra.components.ci_roles import ECR_PULL, IMAGE_PROMOTE
from florai_infra.components.protection import stateful
from florai_infra.config import RegistrySettings


@dataclass(frozen=True)
class RegistryArgs:
    repository_name: str
    settings: RegistrySettings
    kms_key_arn: pulumi.Input[str]
    force_delete: bool
    protect: bool
    tags: dict[str, str]
    pull_account_ids: tuple[str, ...] = ()  # the next environment's accounts, which promote from here
    partition: str = "aws"


def lifecycle_policy(settings: RegistrySettings) -> str:
    """Expire untagged images after N days; keep the newest N tagged images."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"expire untagged images after {settings.untagged_expiry_days} days",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": settings.untagged_expiry_days,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"keep the newest {settings.keep_tagged_images} tagged images",
                    "selection": {
                        "tagStatus": "tagged",
                        "tagPatternList": ["*"],
                        "countType": "imageCountMoreThan",
                        "countNumber": settings.keep_tagged_images,
                    },
                    "action": {"type": "expire"},
                },
            ]
        },
        sort_keys=True,
    )


def cross_account_pull_policy(args: RegistryArgs) -> str:
    """The promotion roles of the next environments' accounts may pull images (nothing else)."""
    roles = [f"arn:{args.partition}:iam::{a}:role/*-ci-{IMAGE_PROMOTE}" for a in args.pull_account_ids]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PromotionPull",
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": [f"arn:{args.partition}:iam::{a}:root" for a in args.pull_account_ids]
                    },
                    "Action": ECR_PULL,
                    "Condition": {"ArnLike": {"aws:PrincipalArn": roles}},
                }
            ],
        },
        sort_keys=True,
    )


class Registry(pulumi.ComponentResource):
    repository_url: pulumi.Output[str]
    repository_arn: pulumi.Output[str]

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:registry:Registry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        repo = aws.ecr.Repository(
            name,
            name=args.repository_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": args.kms_key_arn}],
            force_delete=args.force_delete,
            tags=args.tags,
            opts=stateful(self, args.protect, holds_data=True),
        )
        if args.pull_account_ids:
            aws.ecr.RepositoryPolicy(
                name, repository=repo.name, policy=cross_account_pull_policy(args), opts=child
            )
        aws.ecr.LifecyclePolicy(
            name, repository=repo.name, policy=lifecycle_policy(args.settings), opts=child
        )
        self.repository_url = repo.repository_url
        self.repository_arn = repo.arn
        self.register_outputs({"repository_url": self.repository_url})
