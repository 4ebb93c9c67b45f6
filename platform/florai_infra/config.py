"""The stack's settings: one typed, validated, frozen object read from ``Pulumi.<stack>.yaml``.

Pydantic models hold every key, type and default (camelCase in the stack file, snake_case here);
``stack_rules`` adds what depends on the stack (prod's private endpoint, HA in staging/prod).
Every problem is reported at once, with its full key, as one ``ConfigError`` before any resource.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic.alias_generators import to_camel

from florai_infra import PROJECT, STACKS, upstream
from florai_infra.tagging import base_tags

# Retention values CloudWatch Logs accepts.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653)
MIN_BACKUP_RETENTION_DAYS = 7
HIGHLY_AVAILABLE_STACKS = ("staging", "prod")
# Managed-node-group GPU families whose NVIDIA AMI (AL2023_x86_64_NVIDIA) we support.
GPU_INSTANCE_TYPE = r"^(g5|g6|g6e)\.(xlarge|[1-9][0-9]?xlarge|metal)$"
EC2_INSTANCE_TYPE = r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"
IAM_ROLE_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$"
# EKS managed add-ons the program installs; each needs a pinned version.
REQUIRED_ADDONS = ("vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver")


class ConfigError(ValueError):
    """The stack config is missing or has wrong values; the message lists every problem."""

    def __init__(self, stack: str, problems: list[str]):
        self.stack = stack
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid config for stack {stack!r} ({len(self.problems)} problem(s)):\n{lines}")


def _json_structure(value: Any) -> Any:
    """Structures set with `pulumi config set --path` or passed by the engine arrive as JSON text."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _network_cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as err:
        raise ValueError(f"{value!r} is not a valid network CIDR") from err
    return value


def _routable_cidr(value: str) -> str:
    """An allow-list entry must be a real public range: documentation and private ranges never match CI."""
    network = ipaddress.ip_network(_network_cidr(value))
    if network.prefixlen and not network.is_global:
        raise ValueError(f"{value!r} is not a public address range (documentation, private or reserved)")
    return value


def _kubernetes_version(value: Any) -> str:
    text = str(value)
    if re.fullmatch(r"1\.\d", text):
        # YAML reads 1.30 as the number 1.3.
        raise ValueError(
            f'{text!r} is 1.{text[2]}0 read as a number: quote it, kubernetesVersion: "1.{text[2]}0"'
        )
    if not re.fullmatch(r"1\.\d{2}", text):
        raise ValueError(f'{text!r} is not a Kubernetes minor version such as "1.35"')
    if text not in upstream.eks_calendar():
        raise ValueError(f"{text!r} is not in the EKS release calendar (platform/upstream/eks/calendar.yaml)")
    return text


def _aws_region(value: str) -> str:
    if value not in upstream.aws_regions():
        raise ValueError(f"{value!r} is not an AWS region (platform/upstream/regions/partitions.json)")
    return value


Json = BeforeValidator(_json_structure)
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,30}$")]
Cidr = Annotated[str, AfterValidator(_network_cidr)]
RoutableCidr = Annotated[str, AfterValidator(_routable_cidr)]
Region = Annotated[str, AfterValidator(_aws_region)]
AccountId = Annotated[str, StringConstraints(pattern=r"^\d{12}$")]
RoleArn = Annotated[str, StringConstraints(pattern=IAM_ROLE_ARN, max_length=600)]
KubernetesVersion = Annotated[str, BeforeValidator(_kubernetes_version)]


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True, strict=False
    )


class NodeGroupSettings(_Model):
    name: Name
    instance_types: tuple[Annotated[str, StringConstraints(pattern=EC2_INSTANCE_TYPE)], ...] = Field(
        min_length=1
    )
    min_size: int = Field(ge=0)
    max_size: int = Field(ge=1)
    desired_size: int = Field(ge=0)
    disk_size_gib: int = Field(100, ge=20, le=2000)


class GpuNodeGroupSettings(NodeGroupSettings):
    instance_types: tuple[Annotated[str, StringConstraints(pattern=GPU_INSTANCE_TYPE)], ...] = Field(
        min_length=1
    )


class SystemNodeGroupSettings(NodeGroupSettings):
    """The node group for add-ons and CPU services; every key has a default."""

    name: Name = "system"
    instance_types: tuple[Annotated[str, StringConstraints(pattern=EC2_INSTANCE_TYPE)], ...] = Field(
        ("m6i.large",), min_length=1
    )
    min_size: int = Field(2, ge=0)
    max_size: int = Field(4, ge=1)
    desired_size: int = Field(2, ge=0)
    disk_size_gib: int = Field(50, ge=20, le=2000)


class NetworkSettings(_Model):
    vpc_cidr: Cidr = "10.0.0.0/16"
    az_count: int = Field(3, ge=1, le=6)
    nat_per_az: bool = True
    private_subnet_prefix: int = Field(19, ge=16, le=28)
    public_subnet_prefix: int = Field(24, ge=16, le=28)

    @property
    def private_subnet_cidrs(self) -> tuple[str, ...]:
        return plan_subnets(
            self.vpc_cidr, self.az_count, self.private_subnet_prefix, self.public_subnet_prefix
        )[0]

    @property
    def public_subnet_cidrs(self) -> tuple[str, ...]:
        return plan_subnets(
            self.vpc_cidr, self.az_count, self.private_subnet_prefix, self.public_subnet_prefix
        )[1]


class ClusterSettings(_Model):
    kubernetes_version: KubernetesVersion = "1.35"
    endpoint_public_access: bool = False
    public_access_cidrs: Annotated[tuple[RoutableCidr, ...], Json] = ()
    admin_role_arns: Annotated[tuple[RoleArn, ...], Json] = ()
    # How CI reaches the API endpoint: CodeBuild-hosted runners inside the VPC (private endpoint),
    # or GitHub runners with fixed egress addresses listed in publicAccessCidrs.
    ci_route: Literal["vpc-runner", "public-allow-list"] = "vpc-runner"
    system_node_group: Annotated[SystemNodeGroupSettings, Json] = SystemNodeGroupSettings()
    gpu_node_groups: Annotated[tuple[GpuNodeGroupSettings, ...], Json] = ()
    # Stack overrides of the pinned tables in platform/upstream/eks (add-on -> version; AMI release).
    addon_versions: Annotated[dict[str, str], Json] = {}
    ami_release_version: str | None = None

    @property
    def pinned_addon_versions(self) -> dict[str, str]:
        return {**upstream.addon_versions().get(self.kubernetes_version, {}), **self.addon_versions}

    @property
    def node_release_version(self) -> str | None:
        return self.ami_release_version or upstream.ami_release_versions().get(self.kubernetes_version)


class DatabaseSettings(_Model):
    instance_class: Annotated[str, StringConstraints(pattern=r"^db\.[a-z0-9]+\.\w+$")] = "db.t4g.medium"
    # Major version only: RDS applies minor upgrades itself (autoMinorVersionUpgrade), so a minor pin
    # would make Pulumi try to downgrade after each one.
    engine_version: Annotated[str, StringConstraints(pattern=r"^1[4-8]$")] = "17"
    allocated_storage_gib: int = Field(50, ge=20)
    max_allocated_storage_gib: int = 200
    multi_az: bool = True
    deletion_protection: bool = True
    backup_retention_days: int = Field(7, ge=MIN_BACKUP_RETENTION_DAYS, le=35)
    slow_query_ms: int = Field(500, ge=0)
    monitoring_interval_seconds: Literal[0, 1, 5, 10, 15, 30, 60] = 60  # RDS enhanced monitoring

    @property
    def parameter_family(self) -> str:
        return f"postgres{self.engine_version}"


class CacheSettings(_Model):
    node_type: Annotated[str, StringConstraints(pattern=r"^cache\.[a-z0-9]+\.\w+$")] = "cache.t4g.small"
    engine_version: Annotated[str, StringConstraints(pattern=r"^[6-8]\.\d+$")] = "7.1"
    replicas: int = Field(1, ge=0, le=5)
    snapshot_retention_days: int = Field(7, ge=0)


class RegistrySettings(_Model):
    keep_tagged_images: int = Field(30, ge=1)
    untagged_expiry_days: int = Field(7, ge=1)
    # Accounts whose promotion role may pull this repository's images (the next environment's).
    pull_account_ids: Annotated[tuple[AccountId, ...], Json] = ()


class GitOpsSettings(_Model):
    repo_url: Annotated[str, StringConstraints(pattern=r"^https://\S+$")] = (
        "https://github.com/florai/florai.git"
    )
    target_revision: str = "main"
    argocd_chart_version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")] = "10.1.1"
    # False only for an account's very first `pulumi up` from outside the VPC (README, Running for real).
    bootstrap: bool = True


class GitHubSettings(_Model):
    repository: Annotated[str, StringConstraints(pattern=r"^[\w.-]+/[\w.-]+$")] = "florai/florai"
    # One provider per URL per AWS account: exactly one stack of an account creates it.
    create_oidc_provider: bool = True
    # Where promoted images come from: the previous environment's account (staging, prod).
    image_source_account_id: AccountId | None = None


class DnsSettings(_Model):
    """A Route 53 public hosted zone that already exists in the stack's account (README)."""

    hosted_zone_id: Annotated[str, StringConstraints(pattern=r"^Z[A-Z0-9]{4,32}$")]
    domain_name: Annotated[str, StringConstraints(pattern=r"^([a-z0-9-]+\.)+[a-z]{2,}$")]

    @property
    def api_hostname(self) -> str:
        return f"api.{self.domain_name}"


class StackConfig(NetworkSettings, ClusterSettings):
    """The ``florai:`` keys of a stack file, as written there: the network and cluster keys are flat."""

    owner: Annotated[str, StringConstraints(min_length=1)]
    cost_centre: Annotated[str, StringConstraints(min_length=1)]
    dns: Annotated[DnsSettings, Json]
    database: Annotated[DatabaseSettings, Json] = DatabaseSettings()
    cache: Annotated[CacheSettings, Json] = CacheSettings()
    registry: Annotated[RegistrySettings, Json] = RegistrySettings()
    gitops: Annotated[GitOpsSettings, Json] = GitOpsSettings()
    github: Annotated[GitHubSettings, Json] = GitHubSettings()
    waf_rate_limit: int = Field(2000, ge=10, le=2_000_000_000)  # requests per client IP per 5 minutes
    log_retention_days: int = 90
    image_retention_days: int = Field(365, ge=1)  # consented-images/ in the model bucket (issue 17)
    dr_region: Region | None = None  # secondary region: backups, images and models are copied there


NETWORK_FIELDS = tuple(NetworkSettings.model_fields)
CLUSTER_FIELDS = tuple(ClusterSettings.model_fields)


class Settings(_Model):
    environment: str
    region: str
    account_id: str
    owner: str
    cost_centre: str
    network: NetworkSettings
    cluster: ClusterSettings
    database: DatabaseSettings
    cache: CacheSettings
    registry: RegistrySettings
    gitops: GitOpsSettings
    github: GitHubSettings
    dns: DnsSettings
    waf_rate_limit: int
    log_retention_days: int
    image_retention_days: int
    dr_region: str | None = None

    @property
    def is_dev(self) -> bool:
        return self.environment == "dev"

    @property
    def name_prefix(self) -> str:
        return f"{PROJECT}-{self.environment}"

    @property
    def tags(self) -> dict[str, str]:
        return base_tags(self.environment, self.owner, self.cost_centre, project=PROJECT)


def plan_subnets(vpc_cidr: str, az_count: int, private_prefix: int, public_prefix: int):
    """Carve ``az_count`` private then ``az_count`` public subnets from the VPC, in order.

    Raises ``ValueError`` when the prefixes are not inside the VPC or do not all fit.
    """
    vpc = ipaddress.ip_network(vpc_cidr, strict=True)
    if not vpc.prefixlen < private_prefix <= 28 or not vpc.prefixlen < public_prefix <= 28:
        raise ValueError(f"subnet prefixes must be longer than /{vpc.prefixlen} and at most /28")
    cursor = int(vpc.network_address)
    end = int(vpc.broadcast_address) + 1
    allocated: dict[int, list[str]] = {private_prefix: [], public_prefix: []}
    for prefix in [private_prefix] * az_count + [public_prefix] * az_count:
        size = 2 ** (32 - prefix)
        cursor = -(-cursor // size) * size  # align to the subnet's own size
        if cursor + size > end:
            raise ValueError(
                f"{az_count} private /{private_prefix} and {az_count} public /{public_prefix} "
                f"subnets do not fit in {vpc_cidr}"
            )
        allocated[prefix].append(str(ipaddress.ip_network((cursor, prefix))))
        cursor += size
    if private_prefix == public_prefix:
        both = allocated[private_prefix]
        return tuple(both[:az_count]), tuple(both[az_count:])
    return tuple(allocated[private_prefix]), tuple(allocated[public_prefix])


def _key(loc: tuple[Any, ...]) -> str:
    """``("gpuNodeGroups", 0, "maxSize")`` -> ``florai:gpuNodeGroups[0].maxSize``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not out:
            out = str(part)
        elif not part.startswith(("function-", "tuple[", "dict[")):
            out += f".{part}"
    return f"{PROJECT}:{out}"


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known setting"
    if kind == "string_pattern_mismatch":
        return f"{error['input']!r} does not match {error['ctx']['pattern']}"
    return error["msg"].removeprefix("Value error, ") + (
        "" if kind == "value_error" else f", got {error['input']!r}"
    )


def _node_group_rules(key: str, group: NodeGroupSettings) -> list[str]:
    if group.min_size > group.max_size:
        return [f"{key}.maxSize: must be >= minSize ({group.min_size}), got {group.max_size}"]
    if not group.min_size <= group.desired_size <= group.max_size:
        return [
            f"{key}.desiredSize: must be between minSize ({group.min_size}) and maxSize "
            f"({group.max_size}), got {group.desired_size}"
        ]
    return []


def stack_rules(stack: str, c: StackConfig, region: str, account_id: str) -> list[str]:
    """Rules across keys or tied to the environment, each naming the key to fix."""
    p = f"{PROJECT}:"
    problems: list[str] = []
    ha = stack in HIGHLY_AVAILABLE_STACKS
    if stack == "prod" and not c.nat_per_az:
        problems.append(f"{p}natPerAz: prod needs one NAT gateway per AZ (true)")
    if stack == "dev" and c.nat_per_az:
        problems.append(f"{p}natPerAz: dev runs a single NAT gateway (false)")
    if ha and c.az_count < 2:
        problems.append(f"{p}azCount: {stack} must span at least 2 AZs, got {c.az_count}")
    try:
        plan_subnets(c.vpc_cidr, c.az_count, c.private_subnet_prefix, c.public_subnet_prefix)
    except ValueError as err:
        problems.append(f"{p}vpcCidr: {err}")
    if stack == "prod" and c.endpoint_public_access:
        problems.append(f"{p}endpointPublicAccess: prod keeps the API endpoint private (false)")
    if c.endpoint_public_access and not c.public_access_cidrs:
        problems.append(f"{p}publicAccessCidrs: a public endpoint must be limited to at least one CIDR")
    if not c.endpoint_public_access and c.public_access_cidrs:
        problems.append(f"{p}publicAccessCidrs: set only when endpointPublicAccess is true")
    if stack != "dev" and any(cidr.endswith("/0") for cidr in c.public_access_cidrs):
        problems.append(f"{p}publicAccessCidrs: an open endpoint (/0) is allowed only in dev, not {stack}")
    if c.ci_route == "public-allow-list" and not c.endpoint_public_access:
        problems.append(f"{p}ciRoute: public-allow-list needs endpointPublicAccess true (or use vpc-runner)")
    for i, arn in enumerate(c.admin_role_arns):
        if arn.split(":")[4] != account_id:
            problems.append(f"{p}adminRoleArns[{i}]: {arn} is not in the stack's account {account_id}")
    if not c.gpu_node_groups:
        problems.append(f"{p}gpuNodeGroups: at least one GPU node group is required")
    problems += _node_group_rules(f"{p}systemNodeGroup", c.system_node_group)
    for i, group in enumerate(c.gpu_node_groups):
        problems += _node_group_rules(f"{p}gpuNodeGroups[{i}]", group)
    names = [g.name for g in c.gpu_node_groups] + [c.system_node_group.name]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{p}gpuNodeGroups: node group name {dup!r} is used twice")
    cluster = ClusterSettings(**{f: getattr(c, f) for f in CLUSTER_FIELDS})
    missing = sorted(set(REQUIRED_ADDONS) - set(cluster.pinned_addon_versions))
    if missing:
        problems.append(
            f"{p}addonVersions: no pinned version of {', '.join(missing)} for Kubernetes "
            f"{c.kubernetes_version}: add them to platform/upstream/eks/addon-versions.yaml"
        )
    release = cluster.node_release_version
    if release is None or not release.startswith(f"{c.kubernetes_version}."):
        problems.append(
            f"{p}amiReleaseVersion: {release!r} is not an AMI release of Kubernetes {c.kubernetes_version}"
        )
    d = c.database
    if d.max_allocated_storage_gib < d.allocated_storage_gib:
        problems.append(
            f"{p}database.maxAllocatedStorageGib: must be >= allocatedStorageGib ({d.allocated_storage_gib})"
        )
    if ha and not d.multi_az:
        problems.append(f"{p}database.multiAz: {stack} needs a multi-AZ database (true)")
    if ha and not d.deletion_protection:
        problems.append(f"{p}database.deletionProtection: {stack} needs deletion protection (true)")
    if ha and c.cache.replicas < 1:
        problems.append(f"{p}cache.replicas: {stack} needs at least one replica for automatic failover")
    if c.log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(
            f"{p}logRetentionDays: must be one of {LOG_RETENTION_DAYS}, got {c.log_retention_days}"
        )
    if ha and c.dr_region is None:
        problems.append(
            f"{p}drRegion: {stack} needs a secondary region for disaster recovery (e.g. us-west-2)"
        )
    if c.dr_region is not None and c.dr_region == region:
        problems.append(
            f"{p}drRegion: must differ from aws:region ({region}): a copy in the same region is no DR"
        )
    if stack in ("staging", "prod") and c.github.image_source_account_id is None:
        problems.append(
            f"{p}github.imageSourceAccountId: {stack} promotes images from another account: name it"
        )
    return problems


def _account_id(allowed_account_ids: Any) -> tuple[str, list[str]]:
    ids = _json_structure(allowed_account_ids)
    if isinstance(ids, list) and len(ids) == 1 and re.fullmatch(r"\d{12}", str(ids[0])):
        return str(ids[0]), []
    return "", [
        f"aws:allowedAccountIds: name exactly the one 12-digit AWS account of this stack, got {ids!r}"
    ]


def settings_from_mapping(
    stack: str,
    project_values: Mapping[str, Any],
    region: str | None,
    allowed_account_ids: Any = None,
) -> Settings:
    """Build and validate the settings from the ``florai:`` values (keys without the prefix).

    Values may be parsed YAML (structures, numbers, booleans) or the strings the engine passes.
    """
    problems: list[str] = []
    if stack not in STACKS:
        problems.append(f"stack {stack!r} is unknown: expected one of {', '.join(STACKS)}")
    if not region:
        problems.append("aws:region: is required")
    elif region not in upstream.aws_regions():
        problems.append(
            f"aws:region: {region!r} is not an AWS region (platform/upstream/regions/partitions.json)"
        )
    account_id, account_problems = _account_id(allowed_account_ids)
    problems += account_problems
    config: StackConfig | None = None
    try:
        config = StackConfig.model_validate({k: _json_structure(v) for k, v in project_values.items()})
    except ValidationError as err:
        errors = err.errors()
        # A list whose items failed also reports "too short"; the item errors already say what to fix.
        items = {e["loc"][:-2] for e in errors if len(e["loc"]) > 1 and isinstance(e["loc"][-1], int)}
        items |= {e["loc"][:-1] for e in errors if e["loc"] and isinstance(e["loc"][-1], int)}
        problems += [
            f"{_key(e['loc'])}: {_message(e)}"
            for e in errors
            if not (e["type"] == "too_short" and e["loc"] in items)
        ]
    if config is not None:
        problems += stack_rules(stack, config, region or "", account_id)
    if problems or config is None:
        raise ConfigError(stack, problems)
    return Settings(
        environment=stack,
        region=region or "",
        account_id=account_id,
        owner=config.owner,
        cost_centre=config.cost_centre,
        network=NetworkSettings(**{f: getattr(config, f) for f in NETWORK_FIELDS}),
        cluster=ClusterSettings(**{f: getattr(config, f) for f in CLUSTER_FIELDS}),
        database=config.database,
        cache=config.cache,
        registry=config.registry,
        gitops=config.gitops,
        github=config.github,
        dns=config.dns,
        waf_rate_limit=config.waf_rate_limit,
        log_retention_days=config.log_retention_days,
        image_retention_days=config.image_retention_days,
        dr_region=config.dr_region,
    )


def load_settings() -> Settings:
    """The current stack's settings, from the Pulumi config the engine (or CLI) provides."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    # Every key set for the project, so a misspelt key is reported rather than ignored.
    all_keys = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{PROJECT}:"
    values = {k.removeprefix(prefix): v for k, v in sorted(all_keys.items()) if k.startswith(prefix)}
    aws_config = pulumi.Config("aws")
    return settings_from_mapping(
        pulumi.get_stack(), values, aws_config.get("region"), aws_config.get("allowedAccountIds")
    )
