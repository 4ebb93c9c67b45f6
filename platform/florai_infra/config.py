"""The stack's settings: one typed, validated, frozen object read from ``Pulumi.<stack>.yaml``.

The dataclass defaults below are the only defaults; stack files override them. Every
problem is collected and raised as one ``ConfigError`` before any resource is declared.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from florai_infra import PROJECT, STACKS
from florai_infra.tagging import base_tags

# Managed-node-group GPU families whose NVIDIA AMI (AL2023_x86_64_NVIDIA) we support.
GPU_INSTANCE_TYPE = re.compile(r"^(g5|g6|g6e)\.(xlarge|[1-9][0-9]?xlarge|metal)$")
EC2_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
KUBERNETES_VERSION = re.compile(r"^1\.(2[89]|3[0-9])$")
IAM_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
NODE_GROUP_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
# Retention values CloudWatch Logs accepts.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653)
MIN_BACKUP_RETENTION_DAYS = 7
HIGHLY_AVAILABLE_STACKS = ("staging", "prod")
AWS_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")


class ConfigError(ValueError):
    """The stack config is missing or has wrong values; the message lists every problem."""

    def __init__(self, stack: str, problems: list[str]):
        self.stack = stack
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid config for stack {stack!r} ({len(self.problems)} problem(s)):\n{lines}")


@dataclass(frozen=True)
class NodeGroupSettings:
    name: str
    instance_types: tuple[str, ...]
    min_size: int
    max_size: int
    desired_size: int
    disk_size_gib: int = 100


@dataclass(frozen=True)
class NetworkSettings:
    vpc_cidr: str = "10.0.0.0/16"
    az_count: int = 3
    nat_per_az: bool = True
    private_subnet_prefix: int = 19
    public_subnet_prefix: int = 24
    private_subnet_cidrs: tuple[str, ...] = ()
    public_subnet_cidrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterSettings:
    kubernetes_version: str = "1.31"
    endpoint_public_access: bool = False
    public_access_cidrs: tuple[str, ...] = ()
    admin_role_arns: tuple[str, ...] = ()
    system_node_group: NodeGroupSettings = field(
        default_factory=lambda: NodeGroupSettings("system", ("m6i.large",), 2, 4, 2, 50)
    )
    gpu_node_groups: tuple[NodeGroupSettings, ...] = ()


@dataclass(frozen=True)
class DatabaseSettings:
    instance_class: str = "db.t4g.medium"
    engine_version: str = "16.4"
    allocated_storage_gib: int = 50
    max_allocated_storage_gib: int = 200
    multi_az: bool = True
    deletion_protection: bool = True
    backup_retention_days: int = 7
    slow_query_ms: int = 500

    @property
    def parameter_family(self) -> str:
        return f"postgres{self.engine_version.split('.')[0]}"


@dataclass(frozen=True)
class CacheSettings:
    node_type: str = "cache.t4g.small"
    engine_version: str = "7.1"
    replicas: int = 1
    snapshot_retention_days: int = 7


@dataclass(frozen=True)
class RegistrySettings:
    keep_tagged_images: int = 30
    untagged_expiry_days: int = 7


@dataclass(frozen=True)
class GitOpsSettings:
    repo_url: str = "https://github.com/florai/florai.git"
    target_revision: str = "main"
    argocd_chart_version: str = "7.7.11"


@dataclass(frozen=True)
class GitHubSettings:
    repository: str = "florai/florai"  # owner/name: the only repository whose workflows get CI roles
    # One provider per URL per AWS account: exactly one stack of an account creates it.
    create_oidc_provider: bool = True


@dataclass(frozen=True)
class Settings:
    environment: str
    region: str
    owner: str
    cost_centre: str
    network: NetworkSettings
    cluster: ClusterSettings
    database: DatabaseSettings
    cache: CacheSettings
    registry: RegistrySettings
    gitops: GitOpsSettings
    github: GitHubSettings = field(default_factory=GitHubSettings)
    waf_rate_limit: int = 2000  # requests per client IP per 5 minutes
    log_retention_days: int = 90
    dr_region: str | None = None  # secondary region: backups, images and models are copied there

    @property
    def is_dev(self) -> bool:
        return self.environment == "dev"

    @property
    def name_prefix(self) -> str:
        return f"{PROJECT}-{self.environment}"

    @property
    def tags(self) -> dict[str, str]:
        return base_tags(self.environment, self.owner, self.cost_centre, project=PROJECT)


def _default(cls: type, name: str) -> Any:
    f = next(f for f in fields(cls) if f.name == name)
    if f.default is not MISSING:
        return f.default
    return f.default_factory()  # type: ignore[misc]


class _Reader:
    """Reads one config object (or the top level), recording problems under their full key."""

    def __init__(self, values: Mapping[str, Any], path: str, problems: list[str]):
        self.values = values
        self.path = path
        self.problems = problems
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if not self.path.endswith(":") else f"{self.path}{name}"

    def problem(self, name: str, message: str) -> None:
        self.problems.append(f"{self.key(name)}: {message}")

    def _raw(self, name: str, default: Any, required: bool) -> Any:
        self.seen.add(name)
        if name not in self.values or self.values[name] is None:
            if required:
                self.problem(name, "is required")
            return default
        return self.values[name]

    def string(self, name: str, default: Any = None, *, required: bool = False, pattern=None) -> Any:
        value = self._raw(name, default, required)
        if value is default:
            return value
        if not isinstance(value, str) or not value:
            self.problem(name, f"must be a non-empty string, got {value!r}")
            return default
        if pattern is not None and not pattern.match(value):
            self.problem(name, f"{value!r} does not match {pattern.pattern}")
            return default
        return value

    def integer(self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None):
        value = self._raw(name, default, False)
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            value = int(value)  # scalars set with `pulumi config set` arrive as strings
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(name, f"must be an integer, got {value!r}")
            return default
        if minimum is not None and value < minimum:
            self.problem(name, f"must be >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            self.problem(name, f"must be <= {maximum}, got {value}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self._raw(name, default, False)
        if isinstance(value, str) and value in ("true", "false"):
            value = value == "true"
        if not isinstance(value, bool):
            self.problem(name, f"must be true or false, got {value!r}")
            return default
        return value

    def strings(self, name: str, default: tuple[str, ...] = (), check: Callable[[str], bool] | None = None):
        value = self._raw(name, default, False)
        if value is default:
            return tuple(default)
        if isinstance(value, str):
            value = _json_or_self(value)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(name, f"must be a list of strings, got {value!r}")
            return default
        for i, item in enumerate(value):
            if check is not None and not check(item):
                self.problem(f"{name}[{i}]", f"{item!r} is not valid")
        return tuple(value)

    def objects(self, name: str) -> list[_Reader] | None:
        value = self._raw(name, None, False)
        if value is None:
            return None
        if isinstance(value, str):
            value = _json_or_self(value)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problem(name, "must be a list of objects")
            return []
        return [_Reader(v, f"{self.key(name)}[{i}]", self.problems) for i, v in enumerate(value)]

    def obj(self, name: str) -> _Reader:
        value = self._raw(name, {}, False)
        if isinstance(value, str):
            value = _json_or_self(value)
        if not isinstance(value, dict):
            self.problem(name, "must be an object")
            value = {}
        return _Reader(value, self.key(name), self.problems)

    def reject_unknown(self) -> None:
        for name in sorted(set(self.values) - self.seen):
            self.problem(name, "is not a known setting")


def _json_or_self(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _is_cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        return False
    return True


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
        allocated.setdefault(prefix, [])
        allocated[prefix].append(str(ipaddress.ip_network((cursor, prefix))))
        cursor += size
    if private_prefix == public_prefix:
        both = allocated[private_prefix]
        return tuple(both[:az_count]), tuple(both[az_count:])
    return tuple(allocated[private_prefix]), tuple(allocated[public_prefix])


def _node_group(r: _Reader, default: NodeGroupSettings | None, gpu: bool) -> NodeGroupSettings:
    defaults = default or NodeGroupSettings("", (), 0, 0, 0)
    name = r.string("name", defaults.name or None, required=default is None, pattern=NODE_GROUP_NAME)
    pattern = GPU_INSTANCE_TYPE if gpu else EC2_INSTANCE_TYPE
    family = "a GPU instance type of the g5, g6 or g6e family" if gpu else "an EC2 instance type"
    instance_types = r.strings("instanceTypes", defaults.instance_types)
    if not instance_types:
        r.problem("instanceTypes", "must name at least one instance type")
    for i, itype in enumerate(instance_types):
        if not pattern.match(itype):
            r.problem(f"instanceTypes[{i}]", f"{itype!r} is not {family}")
    min_size = r.integer("minSize", defaults.min_size, minimum=0)
    max_size = r.integer("maxSize", defaults.max_size, minimum=1)
    desired = r.integer("desiredSize", defaults.desired_size, minimum=0)
    disk = r.integer("diskSizeGib", defaults.disk_size_gib, minimum=20, maximum=2000)
    if min_size > max_size:
        r.problem("maxSize", f"must be >= minSize ({min_size}), got {max_size}")
    elif not min_size <= desired <= max_size:
        r.problem(
            "desiredSize", f"must be between minSize ({min_size}) and maxSize ({max_size}), got {desired}"
        )
    r.reject_unknown()
    return NodeGroupSettings(name or "", instance_types, min_size, max_size, desired, disk)


def _network(r: _Reader, stack: str) -> NetworkSettings:
    d = NetworkSettings()
    vpc_cidr = r.string("vpcCidr", d.vpc_cidr)
    az_count = r.integer("azCount", d.az_count, minimum=1, maximum=6)
    nat_per_az = r.boolean("natPerAz", d.nat_per_az)
    private_prefix = r.integer("privateSubnetPrefix", d.private_subnet_prefix, minimum=16, maximum=28)
    public_prefix = r.integer("publicSubnetPrefix", d.public_subnet_prefix, minimum=16, maximum=28)
    if stack == "prod" and not nat_per_az:
        r.problem("natPerAz", "prod needs one NAT gateway per AZ (true)")
    if stack == "dev" and nat_per_az:
        r.problem("natPerAz", "dev runs a single NAT gateway (false)")
    if stack in HIGHLY_AVAILABLE_STACKS and az_count < 2:
        r.problem("azCount", f"{stack} must span at least 2 AZs, got {az_count}")
    private: tuple[str, ...] = ()
    public: tuple[str, ...] = ()
    if not _is_cidr(vpc_cidr):
        r.problem("vpcCidr", f"{vpc_cidr!r} is not a valid network CIDR")
    else:
        try:
            private, public = plan_subnets(vpc_cidr, az_count, private_prefix, public_prefix)
        except ValueError as err:
            r.problem("vpcCidr", str(err))
    return NetworkSettings(vpc_cidr, az_count, nat_per_az, private_prefix, public_prefix, private, public)


def _cluster(r: _Reader, stack: str) -> ClusterSettings:
    d = ClusterSettings()
    version = r.string("kubernetesVersion", d.kubernetes_version, pattern=KUBERNETES_VERSION)
    public = r.boolean("endpointPublicAccess", d.endpoint_public_access)
    cidrs = r.strings("publicAccessCidrs", d.public_access_cidrs, check=_is_cidr)
    admins = r.strings("adminRoleArns", d.admin_role_arns, check=lambda v: bool(IAM_ROLE_ARN.match(v)))
    if stack == "prod" and public:
        r.problem("endpointPublicAccess", "prod keeps the API endpoint private (false)")
    if public and not cidrs:
        r.problem("publicAccessCidrs", "a public endpoint must be limited to at least one CIDR")
    if not public and cidrs:
        r.problem("publicAccessCidrs", "set only when endpointPublicAccess is true")
    if stack != "dev" and any(c.endswith("/0") for c in cidrs):
        r.problem("publicAccessCidrs", f"an open endpoint (/0) is allowed only in dev, not {stack}")
    system = _node_group(r.obj("systemNodeGroup"), d.system_node_group, gpu=False)
    gpu_readers = r.objects("gpuNodeGroups")
    if not gpu_readers:
        r.problem("gpuNodeGroups", "at least one GPU node group is required")
    gpu_groups = tuple(_node_group(g, None, gpu=True) for g in gpu_readers or [])
    names = [g.name for g in gpu_groups] + [system.name]
    for dup in sorted({n for n in names if names.count(n) > 1 and n}):
        r.problem("gpuNodeGroups", f"node group name {dup!r} is used twice")
    return ClusterSettings(version, public, cidrs, admins, system, gpu_groups)


def _database(r: _Reader, stack: str) -> DatabaseSettings:
    d = DatabaseSettings()
    out = DatabaseSettings(
        instance_class=r.string(
            "instanceClass", d.instance_class, pattern=re.compile(r"^db\.[a-z0-9]+\.\w+$")
        ),
        engine_version=r.string("engineVersion", d.engine_version, pattern=re.compile(r"^1[4-7]\.\d+$")),
        allocated_storage_gib=r.integer("allocatedStorageGib", d.allocated_storage_gib, minimum=20),
        max_allocated_storage_gib=r.integer("maxAllocatedStorageGib", d.max_allocated_storage_gib),
        multi_az=r.boolean("multiAz", d.multi_az),
        deletion_protection=r.boolean("deletionProtection", d.deletion_protection),
        backup_retention_days=r.integer(
            "backupRetentionDays", d.backup_retention_days, minimum=MIN_BACKUP_RETENTION_DAYS, maximum=35
        ),
        slow_query_ms=r.integer("slowQueryMs", d.slow_query_ms, minimum=0),
    )
    if out.max_allocated_storage_gib < out.allocated_storage_gib:
        r.problem("maxAllocatedStorageGib", f"must be >= allocatedStorageGib ({out.allocated_storage_gib})")
    if stack in HIGHLY_AVAILABLE_STACKS and not out.multi_az:
        r.problem("multiAz", f"{stack} needs a multi-AZ database (true)")
    if stack in HIGHLY_AVAILABLE_STACKS and not out.deletion_protection:
        r.problem("deletionProtection", f"{stack} needs deletion protection (true)")
    r.reject_unknown()
    return out


def _cache(r: _Reader, stack: str) -> CacheSettings:
    d = CacheSettings()
    out = CacheSettings(
        node_type=r.string("nodeType", d.node_type, pattern=re.compile(r"^cache\.[a-z0-9]+\.\w+$")),
        engine_version=r.string("engineVersion", d.engine_version, pattern=re.compile(r"^[6-8]\.\d+$")),
        replicas=r.integer("replicas", d.replicas, minimum=0, maximum=5),
        snapshot_retention_days=r.integer("snapshotRetentionDays", d.snapshot_retention_days, minimum=0),
    )
    if stack in HIGHLY_AVAILABLE_STACKS and out.replicas < 1:
        r.problem("replicas", f"{stack} needs at least one replica for automatic failover")
    r.reject_unknown()
    return out


def _registry(r: _Reader) -> RegistrySettings:
    d = RegistrySettings()
    out = RegistrySettings(
        keep_tagged_images=r.integer("keepTaggedImages", d.keep_tagged_images, minimum=1),
        untagged_expiry_days=r.integer("untaggedExpiryDays", d.untagged_expiry_days, minimum=1),
    )
    r.reject_unknown()
    return out


def _gitops(r: _Reader) -> GitOpsSettings:
    d = GitOpsSettings()
    out = GitOpsSettings(
        repo_url=r.string("repoUrl", d.repo_url, pattern=re.compile(r"^https://\S+$")),
        target_revision=r.string("targetRevision", d.target_revision),
        argocd_chart_version=r.string(
            "argoCdChartVersion", d.argocd_chart_version, pattern=re.compile(r"^\d+\.\d+\.\d+$")
        ),
    )
    r.reject_unknown()
    return out


def _github(r: _Reader) -> GitHubSettings:
    d = GitHubSettings()
    out = GitHubSettings(
        repository=r.string("repository", d.repository, pattern=re.compile(r"^[\w.-]+/[\w.-]+$")),
        create_oidc_provider=r.boolean("createOidcProvider", d.create_oidc_provider),
    )
    r.reject_unknown()
    return out


def _dr_region(top: _Reader, stack: str, region: str | None) -> str | None:
    dr_region = top.string("drRegion", pattern=AWS_REGION)
    if stack in HIGHLY_AVAILABLE_STACKS and dr_region is None and "drRegion" not in top.values:
        top.problem("drRegion", f"{stack} needs a secondary region for disaster recovery (e.g. us-west-2)")
    if dr_region is not None and dr_region == region:
        top.problem("drRegion", f"must differ from aws:region ({region}): a copy in the same region is no DR")
    return dr_region


def settings_from_mapping(stack: str, project_values: Mapping[str, Any], region: str | None) -> Settings:
    """Build and validate the settings from the ``florai:`` values (keys without the prefix).

    Values may be parsed JSON (structures, numbers, booleans) or the strings the engine passes.
    """
    problems: list[str] = []
    if stack not in STACKS:
        problems.append(f"stack {stack!r} is unknown: expected one of {', '.join(STACKS)}")
    top = _Reader(project_values, f"{PROJECT}:", problems)
    if not region:
        problems.append("aws:region: is required")
    owner = top.string("owner", required=True)
    cost_centre = top.string("costCentre", required=True)
    network = _network(top, stack)
    cluster = _cluster(top, stack)
    database = _database(top.obj("database"), stack)
    cache = _cache(top.obj("cache"), stack)
    registry = _registry(top.obj("registry"))
    gitops = _gitops(top.obj("gitops"))
    github = _github(top.obj("github"))
    waf_rate_limit = top.integer(
        "wafRateLimit", _default(Settings, "waf_rate_limit"), minimum=10, maximum=2_000_000_000
    )
    log_retention = top.integer("logRetentionDays", _default(Settings, "log_retention_days"))
    if log_retention not in LOG_RETENTION_DAYS:
        top.problem("logRetentionDays", f"must be one of {LOG_RETENTION_DAYS}, got {log_retention}")
    dr_region = _dr_region(top, stack, region)
    top.reject_unknown()
    if problems:
        raise ConfigError(stack, problems)
    return Settings(
        environment=stack,
        region=region or "",
        owner=owner,
        cost_centre=cost_centre,
        network=network,
        cluster=cluster,
        database=database,
        cache=cache,
        registry=registry,
        gitops=gitops,
        github=github,
        waf_rate_limit=waf_rate_limit,
        log_retention_days=log_retention,
        dr_region=dr_region,
    )


def load_settings() -> Settings:
    """The current stack's settings, from the Pulumi config the engine (or CLI) provides."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    # Every key set for the project, so a misspelt key is reported rather than ignored.
    all_keys = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{PROJECT}:"
    # Raw strings: each reader decodes its own type (JSON for structures, "7", "true").
    values = {k.removeprefix(prefix): v for k, v in sorted(all_keys.items()) if k.startswith(prefix)}
    region = pulumi.Config("aws").get("region")
    return settings_from_mapping(pulumi.get_stack(), values, region)
