"""WAFv2 regional web ACL for the ALB that the AWS Load Balancer Controller creates."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from florai_infra.components.waf_rules import REDACTED_HEADERS, all_rules, visibility

# WAF delivers logs only to CloudWatch groups whose name starts with this.
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"


@dataclass(frozen=True)
class WafArgs:
    name_prefix: str
    rate_limit: int
    log_key_arn: pulumi.Input[str]
    log_retention_days: int
    tags: dict[str, str]


class Waf(pulumi.ComponentResource):
    web_acl_arn: pulumi.Output[str]

    def __init__(self, name: str, args: WafArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:edge:Waf", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        acl = aws.wafv2.WebAcl(
            name,
            name=args.name_prefix,
            description="FlorAI API: managed rules, per-IP rate limit, upload size limit",
            scope="REGIONAL",
            default_action={"allow": {}},
            rules=all_rules(args.rate_limit),
            visibility_config=visibility(args.name_prefix),
            tags=args.tags,
            opts=child,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"{WAF_LOG_GROUP_PREFIX}{args.name_prefix}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_key_arn,
            tags=args.tags,
            opts=child,
        )
        aws.wafv2.WebAclLoggingConfiguration(
            name,
            resource_arn=acl.arn,
            log_destination_configs=[log_group.arn],
            redacted_fields=[{"single_header": {"name": header}} for header in REDACTED_HEADERS],
            opts=child,
        )
        self.web_acl_arn = acl.arn
        self.register_outputs({"web_acl_arn": self.web_acl_arn})
