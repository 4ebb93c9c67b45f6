"""What each AWS resource type costs a month: capacity from its inputs, usage from the assumptions.

Every AWS type is either priced here or listed free (with why); a type that is neither fails the
estimate, so a new resource cannot slip into a plan uncosted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from florai_infra import upstream
from florai_infra.cost.prices import ASSUMPTIONS_FILE, MissingPriceError, hours_per_month, price, price_table
from florai_infra.offline.plan import Plan, PlannedResource


@dataclass(frozen=True)
class LineItem:
    resource: PlannedResource
    what: str
    monthly: float


@dataclass(frozen=True)
class Context:
    plan: Plan
    region: str
    usage: dict[str, Any]


Pricer = Callable[[PlannedResource, Context], list[LineItem]]

# Free: no charge of their own (their usage is billed on the priced resources they configure).
FREE: frozenset[str] = frozenset(
    {
        "aws:acm/certificate:Certificate",  # public certificates are free
        "aws:acm/certificateValidation:CertificateValidation",
        "aws:codebuild/sourceCredential:SourceCredential",
        "aws:codebuild/webhook:Webhook",  # builds it starts are billed on the project
        "aws:codeconnections/connection:Connection",  # connections have no charge
        # Records are included in the zone's price (first 10,000); DNS validation queries are negligible.
        "aws:route53/record:Record",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "aws:ec2/flowLog:FlowLog",  # billed as log ingestion on its log group
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/launchTemplate:LaunchTemplate",  # its volumes are billed on the node group
        "aws:ec2/route:Route",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/vpc:Vpc",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:ecr/lifecyclePolicy:LifecyclePolicy",
        "aws:ecr/repositoryPolicy:RepositoryPolicy",
        "aws:eks/accessEntry:AccessEntry",
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
        "aws:eks/addon:Addon",  # add-ons run on the nodes
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        "aws:elasticache/parameterGroup:ParameterGroup",
        "aws:elasticache/subnetGroup:SubnetGroup",
        "aws:iam/instanceProfile:InstanceProfile",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:iam/policy:Policy",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:kms/alias:Alias",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
        "aws:s3/bucketLogging:BucketLogging",
        "aws:s3/bucketLoggingV2:BucketLoggingV2",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketVersioningV2:BucketVersioningV2",
        "aws:secretsmanager/secretRotation:SecretRotation",
        "aws:secretsmanager/secretVersion:SecretVersion",  # billed per secret
        "aws:wafv2/webAclAssociation:WebAclAssociation",
        "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",  # billed on its log group
    }
)


def _item(resource: PlannedResource, what: str, monthly: float) -> LineItem:
    return LineItem(resource, what, round(monthly, 2))


def _hours() -> int:
    return hours_per_month()


def eks_cluster(r: PlannedResource, ctx: Context) -> list[LineItem]:
    """Standard support's rate while the version is in it on the price table's date; extended after."""
    version = str(r.inputs.get("version"))
    support = (r.inputs.get("upgradePolicy") or {}).get("supportType", "EXTENDED")
    entry = upstream.eks_calendar().get(version)
    on = dt.date.fromisoformat(str(price_table()["retrieved"]))
    extended = support != "STANDARD" and entry is not None and on > entry["end_of_standard_support"]
    rate = price(ctx.region, "eks", "extendedSupportClusterHour" if extended else "clusterHour")
    label = f"control plane ({version}, {'extended' if extended else 'standard'} support)"
    return [_item(r, label, rate * _hours())]


def _launch_template(r: PlannedResource, ctx: Context) -> PlannedResource | None:
    templates = [d for d in r.dependencies if "aws:ec2/launchTemplate:LaunchTemplate" in d]
    found = [t for t in ctx.plan.resources if t.urn in templates]
    return found[0] if found else None


def node_group(r: PlannedResource, ctx: Context) -> list[LineItem]:
    types = r.inputs.get("instanceTypes") or []
    if not types:
        raise MissingPriceError(f"node group {r.name} names no instance type to price")
    nodes = int((r.inputs.get("scalingConfig") or {}).get("desiredSize") or 0)
    hourly = price(ctx.region, "ec2", "instanceHour", types[0])
    disk = int(r.inputs.get("diskSize") or 20)
    template = _launch_template(r, ctx)
    if template:
        sizes = [m.get("ebs", {}).get("volumeSize") for m in template.inputs.get("blockDeviceMappings") or []]
        disk = sum(int(s) for s in sizes if s) or disk
    return [
        _item(r, f"{nodes} x {types[0]}", nodes * hourly * _hours()),
        _item(r, f"{nodes} x {disk} GiB gp3", nodes * disk * price(ctx.region, "ebs", "gp3GbMonth")),
    ]


def nat_gateway(r: PlannedResource, ctx: Context) -> list[LineItem]:
    gb = ctx.usage["natProcessedGbPerGateway"]
    return [
        _item(r, "gateway hours", price(ctx.region, "nat", "gatewayHour") * _hours()),
        _item(r, f"{gb:g} GB processed", gb * price(ctx.region, "nat", "processedGb")),
    ]


def elastic_ip(r: PlannedResource, ctx: Context) -> list[LineItem]:
    return [_item(r, "public IPv4 address", price(ctx.region, "ec2", "publicIpv4Hour") * _hours())]


def vpc_endpoint(r: PlannedResource, ctx: Context) -> list[LineItem]:
    if r.inputs.get("vpcEndpointType", "Gateway") != "Interface":
        return []  # gateway endpoints (S3, DynamoDB) are free
    azs = len(r.inputs.get("subnetIds") or []) or 1
    gb = ctx.usage["interfaceEndpointGbEach"]
    return [
        _item(
            r, f"interface in {azs} AZs", azs * price(ctx.region, "vpcEndpoint", "interfaceAzHour") * _hours()
        ),
        _item(r, f"{gb:g} GB processed", gb * price(ctx.region, "vpcEndpoint", "processedGb")),
    ]


def rds_instance(r: PlannedResource, ctx: Context) -> list[LineItem]:
    klass = str(r.inputs.get("instanceClass"))
    multi_az = bool(r.inputs.get("multiAz"))
    factor = price(ctx.region, "rds", "multiAzFactor") if multi_az else 1
    storage = int(r.inputs.get("allocatedStorage") or 0)
    per_gb = price(ctx.region, "rds", "gp3GbMonthMultiAz" if multi_az else "gp3GbMonth")
    backup = ctx.usage["databaseBackupGbBeyondFree"]
    label = f"{klass}{' Multi-AZ' if multi_az else ''}"
    items = [
        _item(r, label, factor * price(ctx.region, "rds", "postgresInstanceHour", klass) * _hours()),
        _item(r, f"{storage} GiB gp3", storage * per_gb),
        _item(
            r,
            f"{backup:g} GB backups beyond the free size",
            backup * price(ctx.region, "rds", "backupGbMonth"),
        ),
    ]
    if r.inputs.get("manageMasterUserPassword"):  # RDS keeps the password in a secret of its own
        items.append(_item(r, "master password secret", price(ctx.region, "secretsManager", "secretMonth")))
    return items


def replicated_backups(r: PlannedResource, ctx: Context) -> list[LineItem]:
    gb = ctx.usage["replicatedBackupGb"]
    return [
        _item(r, f"{gb:g} GB backups in {ctx.region}", gb * price(ctx.region, "rds", "backupGbMonth")),
        _item(r, f"{gb:g} GB copied across regions", gb * price(ctx.region, "dataTransfer", "interRegionGb")),
    ]


def redis_group(r: PlannedResource, ctx: Context) -> list[LineItem]:
    node = str(r.inputs.get("nodeType"))
    count = int(r.inputs.get("numCacheClusters") or 1)
    hourly = price(ctx.region, "elasticache", "redisNodeHour", node)
    return [_item(r, f"{count} x {node}", count * hourly * _hours())]


def web_acl(r: PlannedResource, ctx: Context) -> list[LineItem]:
    rules = len(r.inputs.get("rules") or [])
    requests = ctx.usage["wafRequestsPerMonth"] / 1_000_000
    return [
        _item(r, "web ACL", price(ctx.region, "waf", "webAclMonth")),
        _item(r, f"{rules} rules", rules * price(ctx.region, "waf", "ruleMonth")),
        _item(r, f"{requests:g}M requests", requests * price(ctx.region, "waf", "millionRequests")),
    ]


def kms_key(r: PlannedResource, ctx: Context) -> list[LineItem]:
    requests = ctx.usage["kmsRequestsPerKey"] / 10_000
    return [
        _item(r, "key", price(ctx.region, "kms", "keyMonth")),
        _item(r, f"{requests * 10:g}k requests", requests * price(ctx.region, "kms", "tenThousandRequests")),
    ]


def _per_log_group(r: PlannedResource, ctx: Context, key: str) -> float:
    amounts = ctx.usage.get(key) or {}
    if r.name not in amounts:
        raise MissingPriceError(
            f"no {key} assumption for log group {r.name} in {ASSUMPTIONS_FILE.name}: add one per log group"
        )
    return float(amounts[r.name])


def log_group(r: PlannedResource, ctx: Context) -> list[LineItem]:
    ingested = _per_log_group(r, ctx, "logIngestedGb")
    stored = _per_log_group(r, ctx, "logStoredGb")
    return [
        _item(r, f"{ingested:g} GB ingested", ingested * price(ctx.region, "logs", "ingestedGb")),
        _item(r, f"{stored:g} GB stored", stored * price(ctx.region, "logs", "storedGbMonth")),
    ]


def bucket(r: PlannedResource, ctx: Context) -> list[LineItem]:
    gb = ctx.usage["bucketStoredGbEach"]
    return [_item(r, f"{gb:g} GB Standard", gb * price(ctx.region, "s3", "standardGbMonth"))]


def registry_replication(r: PlannedResource, ctx: Context) -> list[LineItem]:
    """Replicated images are stored again in each destination region (the registry's size there)."""
    gb = ctx.usage["registryStoredGb"]
    rules = (r.inputs.get("replicationConfiguration") or {}).get("rules") or []
    regions = sorted({d["region"] for rule in rules for d in rule.get("destinations") or []})
    return [
        _item(r, f"{gb:g} GB images in {region}", gb * price(region, "ecr", "storedGbMonth"))
        for region in regions
    ]


def bucket_replication(r: PlannedResource, ctx: Context) -> list[LineItem]:
    gb = ctx.usage["replicatedBucketGbPerMonth"]
    return [_item(r, f"{gb:g} GB replicated", gb * price(ctx.region, "dataTransfer", "interRegionGb"))]


def secret(r: PlannedResource, ctx: Context) -> list[LineItem]:
    return [_item(r, "secret", price(ctx.region, "secretsManager", "secretMonth"))]


def repository(r: PlannedResource, ctx: Context) -> list[LineItem]:
    gb = ctx.usage["registryStoredGb"]
    return [_item(r, f"{gb:g} GB images", gb * price(ctx.region, "ecr", "storedGbMonth"))]


def hosted_zone(r: PlannedResource, ctx: Context) -> list[LineItem]:
    return [_item(r, "hosted zone", price(ctx.region, "route53", "hostedZoneMonth"))]


def alarm(r: PlannedResource, ctx: Context) -> list[LineItem]:
    return [_item(r, "alarm", price(ctx.region, "cloudwatch", "alarmMonth"))]


def build_project(r: PlannedResource, ctx: Context) -> list[LineItem]:
    """On-demand build minutes of the project's compute type (BUILD_GENERAL1_MEDIUM bills as g1.medium)."""
    minutes = ctx.usage["buildMinutesPerMonth"]
    compute = str((r.inputs.get("environment") or {}).get("computeType"))
    size = "g1." + compute.removeprefix("BUILD_GENERAL1_").lower()
    rate = price(ctx.region, "codebuild", "linuxMinute", size)
    return [_item(r, f"{minutes:g} build minutes on {size}", minutes * rate)]


PRICED: dict[str, Pricer] = {
    "aws:route53/zone:Zone": hosted_zone,
    "aws:cloudwatch/metricAlarm:MetricAlarm": alarm,
    "aws:codebuild/project:Project": build_project,
    "aws:eks/cluster:Cluster": eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": node_group,
    "aws:ec2/natGateway:NatGateway": nat_gateway,
    "aws:ec2/eip:Eip": elastic_ip,
    "aws:ec2/vpcEndpoint:VpcEndpoint": vpc_endpoint,
    "aws:rds/instance:Instance": rds_instance,
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": replicated_backups,
    "aws:elasticache/replicationGroup:ReplicationGroup": redis_group,
    "aws:wafv2/webAcl:WebAcl": web_acl,
    "aws:kms/key:Key": kms_key,
    "aws:cloudwatch/logGroup:LogGroup": log_group,
    "aws:s3/bucket:Bucket": bucket,
    "aws:s3/bucketV2:BucketV2": bucket,
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": bucket_replication,
    "aws:ecr/replicationConfiguration:ReplicationConfiguration": registry_replication,
    "aws:secretsmanager/secret:Secret": secret,
    "aws:ecr/repository:Repository": repository,
}
