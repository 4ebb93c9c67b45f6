"""A program declaring an AWS type the replace table has no rule for (aws:sns/topic:Topic)."""

import pulumi
import pulumi_aws as aws

config = pulumi.Config("florai")
aws.sns.Topic("alerts", name=config.get("topicName") or "florai-alerts")
