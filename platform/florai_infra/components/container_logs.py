"""The CloudWatch Logs group the in-cluster log shipper (Fluent Bit) writes every container's logs to."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class ContainerLogsArgs:
    group_name: str
    retention_days: int
    kms_key_arn: pulumi.Input[str]
    tags: dict[str, str]


class ContainerLogs(pulumi.ComponentResource):
    name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: ContainerLogsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:logging:ContainerLogs", name, None, opts)
        group = aws.cloudwatch.LogGroup(
            name,
            name=args.group_name,
            retention_in_days=args.retention_days,
            kms_key_id=args.kms_key_arn,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = group.name
        self.arn = group.arn
        self.register_outputs({"name": self.name})
