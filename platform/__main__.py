"""FlorAI infrastructure: load the stack settings, wire the components, export the outputs."""

import pulumi
import pulumi_aws as aws

from florai_infra.components.kms import Kms, KmsArgs
from florai_infra.components.network import Network, NetworkArgs
from florai_infra.config import load_settings

# Validated before anything is declared: a bad config stops here with one ConfigError.
settings = load_settings()
prefix = settings.name_prefix
tags = settings.tags
account_id = aws.get_caller_identity().account_id
partition = aws.get_partition().partition
zones = tuple(aws.get_availability_zones(state="available").names[: settings.network.az_count])
cluster_name = prefix

kms = Kms("kms", KmsArgs(prefix, settings.region, account_id, partition, tags))
network = Network(
    "network",
    NetworkArgs(
        settings=settings.network,
        name_prefix=prefix,
        cluster_name=cluster_name,
        region=settings.region,
        availability_zones=zones,
        log_key_arn=kms.arn("logs"),
        log_retention_days=settings.log_retention_days,
        tags=tags,
    ),
)

pulumi.export("environment", settings.environment)
pulumi.export("awsRegion", settings.region)
pulumi.export("awsAccountId", account_id)
pulumi.export("vpcId", network.vpc_id)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("publicSubnetIds", network.public_subnet_ids)
