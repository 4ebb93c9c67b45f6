"""FlorAI infrastructure: load the stack settings, wire the components, export the outputs."""

import pulumi
import pulumi_aws as aws

from florai_infra import names
from florai_infra.components.addons import Addons, AddonsArgs
from florai_infra.components.app_secrets import AppSecrets, AppSecretsArgs
from florai_infra.components.cache import Cache, CacheArgs
from florai_infra.components.certificate import Certificate, CertificateArgs
from florai_infra.components.ci_roles import CiRoles, CiRolesArgs
from florai_infra.components.ci_runner import CiRunner, CiRunnerArgs
from florai_infra.components.cluster import Cluster, ClusterArgs
from florai_infra.components.container_logs import ContainerLogs, ContainerLogsArgs
from florai_infra.components.database import Database, DatabaseArgs
from florai_infra.components.disaster_recovery import DisasterRecovery, DisasterRecoveryArgs
from florai_infra.components.gitops import Bootstrap, BootstrapArgs
from florai_infra.components.identity import ServiceRoles, ServiceRolesArgs
from florai_infra.components.kms import Kms, KmsArgs
from florai_infra.components.network import Network, NetworkArgs
from florai_infra.components.registry import Registry, RegistryArgs
from florai_infra.components.storage import ModelStore, ModelStoreArgs
from florai_infra.components.waf import Waf, WafArgs
from florai_infra.config import REQUIRED_ADDONS, load_settings

# Validated before anything is declared: a bad config stops here with one ConfigError.
settings = load_settings()
env = settings.environment
prefix = settings.name_prefix
tags = settings.tags
# The stack's one account (aws:allowedAccountIds): the provider refuses credentials of any other.
account_id = settings.account_id
partition = aws.get_partition().partition
protect = not settings.is_dev  # stateful resources: protected (and retained where data lives)
zones = tuple(aws.get_availability_zones(state="available").names[: settings.network.az_count])
cluster_name = prefix

kms = Kms("kms", KmsArgs(prefix, settings.region, account_id, partition, tags, protect=protect))
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
cluster = Cluster(
    "cluster",
    ClusterArgs(
        settings=settings.cluster,
        cluster_name=cluster_name,
        environment=env,
        region=settings.region,
        partition=partition,
        private_subnet_ids=network.private_subnet_ids,
        secrets_key_arn=kms.arn("eks"),
        ebs_key_arn=kms.arn("ebs"),
        log_key_arn=kms.arn("logs"),
        log_retention_days=settings.log_retention_days,
        protect=protect,
        tags=tags,
    ),
)
database = Database(
    "database",
    DatabaseArgs(
        settings=settings.database,
        identifier=prefix,
        environment=env,
        partition=partition,
        vpc_id=network.vpc_id,
        subnet_ids=network.private_subnet_ids,
        node_security_group_id=cluster.node_security_group_id,
        storage_key_arn=kms.arn("rds"),
        secret_key_arn=kms.arn("secrets"),
        protect=protect,
        tags=tags,
    ),
)
cache = Cache(
    "cache",
    CacheArgs(
        settings=settings.cache,
        replication_group_id=prefix,
        auth_secret_name=f"{names.secret_prefix(env)}redis/auth-token",
        environment=env,
        vpc_id=network.vpc_id,
        subnet_ids=network.private_subnet_ids,
        node_security_group_id=cluster.node_security_group_id,
        storage_key_arn=kms.arn("cache"),
        secret_key_arn=kms.arn("secrets"),
        protect=protect,
        tags=tags,
    ),
)
app_secrets = AppSecrets(
    "app-secrets",
    AppSecretsArgs(
        names.app_signing_keys_secret(env),
        names.alerting_receivers_secret(env),
        names.ui_credentials_secret(env),
        env,
        kms.arn("secrets"),
        tags,
    ),
)
waf = Waf(
    "waf",
    WafArgs(prefix, settings.waf_rate_limit, kms.arn("logs"), settings.log_retention_days, tags),
)
registry, ui_registry = (
    Registry(
        component,
        RegistryArgs(
            repository,
            settings.registry,
            kms.arn("ecr"),
            settings.is_dev,
            protect,
            tags,
            pull_account_ids=settings.registry.pull_account_ids,
            partition=partition,
        ),
    )
    for component, repository in zip(("registry", "ui-registry"), names.image_repositories(env), strict=True)
)
models = ModelStore(
    "models",
    ModelStoreArgs(
        f"{prefix}-models-{account_id}",
        kms.arn("s3"),
        settings.is_dev,
        protect,
        tags,
        image_retention_days=settings.image_retention_days,
        access_log_bucket_name=f"{prefix}-access-logs-{account_id}",
    ),
)
certificate = Certificate("certificate", CertificateArgs(settings.dns, tags))
container_logs = ContainerLogs(
    "container-logs",
    ContainerLogsArgs(f"/florai/{env}/containers", settings.log_retention_days, kms.arn("logs"), tags),
)
dr = None
if settings.dr_region:
    dr = DisasterRecovery(
        "dr",
        DisasterRecoveryArgs(
            name_prefix=prefix,
            region=settings.region,
            dr_region=settings.dr_region,
            account_id=account_id,
            partition=partition,
            database_arn=database.arn,
            backup_retention_days=settings.database.backup_retention_days,
            repository_prefix=f"{prefix}/",
            model_bucket_name=models.bucket_name,
            model_bucket_arn=models.bucket_arn,
            model_bucket_versioning=models.versioning,
            model_key_arn=kms.arn("s3"),
            replica_bucket_name=f"{prefix}-models-{account_id}-{settings.dr_region}",
            force_destroy=settings.is_dev,
            protect=protect,
            tags=tags,
        ),
    )
roles = ServiceRoles(
    "irsa",
    ServiceRolesArgs(
        name_prefix=prefix,
        environment=env,
        region=settings.region,
        account_id=account_id,
        partition=partition,
        cluster_name=cluster_name,
        oidc_provider_arn=cluster.oidc_provider_arn,
        oidc_issuer_host=cluster.oidc_issuer_host,
        model_bucket_arn=models.bucket_arn,
        model_key_arn=kms.arn("s3"),
        secrets_key_arn=kms.arn("secrets"),
        ebs_key_arn=kms.arn("ebs"),
        database_secret_arn=database.master_secret_arn,
        database_identifier=prefix,
        web_acl_arn=waf.web_acl_arn,
        hosted_zone_id=settings.dns.hosted_zone_id,
        log_group_arn=container_logs.arn,
        tags=tags,
    ),
)
ci = CiRoles(
    "ci",
    CiRolesArgs(
        environment=env,
        repository=settings.github.repository,
        create_oidc_provider=settings.github.create_oidc_provider,
        regions=[settings.region, *([settings.dr_region] if settings.dr_region else [])],
        account_id=account_id,
        partition=partition,
        repository_arns=[registry.repository_arn, ui_registry.repository_arn],
        cluster_name=cluster.name,
        hosted_zone_id=settings.dns.hosted_zone_id,
        image_source_account_id=settings.github.image_source_account_id,
        tags=tags,
    ),
)
runner = None
if settings.cluster.ci_route == "vpc-runner":
    runner = CiRunner(
        "ci-runner",
        CiRunnerArgs(
            name_prefix=prefix,
            repository=settings.github.repository,
            region=settings.region,
            account_id=account_id,
            partition=partition,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            cluster_security_group_id=cluster.node_security_group_id,
            log_retention_days=settings.log_retention_days,
            log_key_arn=kms.arn("logs"),
            tags=tags,
        ),
    )
addons = Addons(
    "addons",
    AddonsArgs(
        cluster_name=cluster.name,
        versions={addon: settings.cluster.pinned_addon_versions[addon] for addon in REQUIRED_ADDONS},
        role_arns={
            "vpc-cni": roles.role_arns[names.VPC_CNI.key],
            "aws-ebs-csi-driver": roles.role_arns[names.EBS_CSI.key],
        },
        node_groups=cluster.node_groups,
        tags=tags,
    ),
)

# What the in-cluster side needs, carried by the Argo CD cluster Secret (GitOps bridge).
bridge = {
    names.BRIDGE_AWS_ACCOUNT_ID: account_id,
    names.BRIDGE_AWS_REGION: settings.region,
    names.BRIDGE_CLUSTER_NAME: cluster.name,
    names.BRIDGE_VPC_ID: network.vpc_id,
    names.BRIDGE_VPC_CIDR: network.vpc_cidr,
    names.BRIDGE_WAF_ACL_ARN: waf.web_acl_arn,
    names.BRIDGE_DATABASE_ENDPOINT: database.endpoint,
    names.BRIDGE_DATABASE_SECRET_ARN: database.master_secret_arn,
    names.BRIDGE_REDIS_ENDPOINT: cache.primary_endpoint,
    names.BRIDGE_REDIS_AUTH_SECRET_ARN: cache.auth_secret_arn,
    names.BRIDGE_MODEL_BUCKET_NAME: models.bucket_name,
    names.BRIDGE_ECR_REPOSITORY_URL: registry.repository_url,
    names.BRIDGE_UI_ECR_REPOSITORY_URL: ui_registry.repository_url,
    names.BRIDGE_HOSTED_ZONE_ID: settings.dns.hosted_zone_id,
    names.BRIDGE_DOMAIN_NAME: settings.dns.domain_name,
    names.BRIDGE_API_HOSTNAME: settings.dns.api_hostname,
    names.BRIDGE_CERTIFICATE_ARN: certificate.arn,
    names.BRIDGE_LOG_GROUP_NAME: container_logs.name,
    names.BRIDGE_IMAGE_RETENTION_DAYS: str(settings.image_retention_days),
    **{names.role_arn_annotation(a): roles.role_arns[a.key] for a in names.IRSA_SERVICE_ACCOUNTS},
}
if settings.gitops.bootstrap:
    Bootstrap(
        "gitops",
        BootstrapArgs(
            settings=settings.gitops,
            environment=env,
            cluster_name=cluster.name,
            kubeconfig=cluster.kubeconfig,
            gpu_enabled=bool(settings.cluster.gpu_node_groups),
            bridge_annotations=bridge,
            bridge_labels={"aws_region": settings.region},
        ),
        # The add-ons (CNI with network policy) come first: Argo CD's pods need a working network.
        opts=pulumi.ResourceOptions(depends_on=[addons]),
    )

pulumi.export("environment", env)
pulumi.export("awsRegion", settings.region)
pulumi.export("awsAccountId", account_id)
pulumi.export("vpcId", network.vpc_id)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("publicSubnetIds", network.public_subnet_ids)
pulumi.export("clusterName", cluster.name)
pulumi.export("clusterEndpoint", cluster.endpoint)
pulumi.export("oidcProviderArn", cluster.oidc_provider_arn)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("wafAclArn", waf.web_acl_arn)
pulumi.export("roleArns", roles.role_arns)
pulumi.export("databaseEndpoint", database.endpoint)
pulumi.export("databaseSecretArn", database.master_secret_arn)
pulumi.export("redisEndpoint", cache.primary_endpoint)
pulumi.export("redisAuthSecretArn", cache.auth_secret_arn)
pulumi.export("appSigningKeysSecretArn", app_secrets.signing_keys_arn)
pulumi.export("modelBucketName", models.bucket_name)
pulumi.export("ecrRepositoryUrl", registry.repository_url)
pulumi.export("uiEcrRepositoryUrl", ui_registry.repository_url)
pulumi.export("hostedZoneId", settings.dns.hosted_zone_id)
pulumi.export("apiHostname", settings.dns.api_hostname)
pulumi.export("certificateArn", certificate.arn)
pulumi.export("containerLogGroup", container_logs.name)
pulumi.export("addonVersions", addons.versions)
pulumi.export("nodeReleaseVersion", settings.cluster.node_release_version)
pulumi.export("githubOidcProviderArn", ci.oidc_provider_arn)
pulumi.export("ciRoleArns", ci.role_arns)
if runner is not None:
    pulumi.export("ciRunnerProject", runner.project_name)
    pulumi.export("githubConnectionArn", runner.connection_arn)
if dr is not None:
    pulumi.export("drRegion", settings.dr_region)
    pulumi.export("modelReplicaBucketName", dr.replica_bucket_name)
    pulumi.export("databaseBackupReplicationArn", dr.backup_replication_arn)
