"""RDS PostgreSQL: private, KMS-encrypted, TLS-only, IAM auth, managed master secret, backups."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from florai_infra.components.firewall import node_only_security_group
from florai_infra.components.iam_documents import managed_policy_arn, service_trust_policy
from florai_infra.components.protection import stateful
from florai_infra.config import DatabaseSettings

POSTGRES_PORT = 5432
DATABASE_NAME = "florai"
MASTER_USERNAME = "florai_admin"
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7
ENHANCED_MONITORING_POLICY = "service-role/AmazonRDSEnhancedMonitoringRole"


@dataclass(frozen=True)
class DatabaseArgs:
    settings: DatabaseSettings
    identifier: str
    environment: str
    partition: str
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    node_security_group_id: pulumi.Input[str]
    storage_key_arn: pulumi.Input[str]
    secret_key_arn: pulumi.Input[str]
    protect: bool
    tags: dict[str, str]


class Database(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    address: pulumi.Output[str]
    master_secret_arn: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:database:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = args.settings
        subnets = aws.rds.SubnetGroup(
            name, name=args.identifier, subnet_ids=args.subnet_ids, tags=args.tags, opts=child
        )
        security_group = node_only_security_group(
            name,
            group_name=f"{args.identifier}-db",
            service="PostgreSQL",
            port=POSTGRES_PORT,
            vpc_id=args.vpc_id,
            node_security_group_id=args.node_security_group_id,
            tags=args.tags,
            opts=child,
        )
        parameters = aws.rds.ParameterGroup(
            name,
            name=f"{args.identifier}-{s.parameter_family}",
            family=s.parameter_family,
            description="FlorAI PostgreSQL: TLS only, slow-query logging",
            parameters=[
                {"name": "rds.force_ssl", "value": "1", "apply_method": "pending-reboot"},
                {
                    "name": "log_min_duration_statement",
                    "value": str(s.slow_query_ms),
                    "apply_method": "immediate",
                },
            ],
            tags=args.tags,
            opts=child,
        )
        monitoring = aws.iam.Role(
            f"{name}-monitoring",
            name=f"{args.identifier}-rds-monitoring",
            description="RDS enhanced monitoring: OS metrics of the database host into CloudWatch Logs",
            assume_role_policy=service_trust_policy("monitoring.rds.amazonaws.com"),
            tags=args.tags,
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-monitoring",
            role=monitoring.name,
            policy_arn=managed_policy_arn(args.partition, ENHANCED_MONITORING_POLICY),
            opts=child,
        )
        keep_snapshot = args.environment != "dev"
        instance = aws.rds.Instance(
            name,
            identifier=args.identifier,
            engine="postgres",
            engine_version=s.engine_version,
            instance_class=s.instance_class,
            allocated_storage=s.allocated_storage_gib,
            max_allocated_storage=s.max_allocated_storage_gib,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=args.storage_key_arn,
            db_name=DATABASE_NAME,
            username=MASTER_USERNAME,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=args.secret_key_arn,
            iam_database_authentication_enabled=True,
            port=POSTGRES_PORT,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[security_group.id],
            parameter_group_name=parameters.name,
            publicly_accessible=False,
            multi_az=s.multi_az,
            deletion_protection=s.deletion_protection,
            backup_retention_period=s.backup_retention_days,
            copy_tags_to_snapshot=True,
            skip_final_snapshot=not keep_snapshot,
            final_snapshot_identifier=f"{args.identifier}-final" if keep_snapshot else None,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=args.storage_key_arn,
            performance_insights_retention_period=PERFORMANCE_INSIGHTS_RETENTION_DAYS,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            auto_minor_version_upgrade=True,  # engineVersion is the major only: AWS keeps the minor current
            allow_major_version_upgrade=False,
            monitoring_interval=s.monitoring_interval_seconds,
            monitoring_role_arn=monitoring.arn if s.monitoring_interval_seconds else None,
            tags=args.tags,
            opts=stateful(self, args.protect, holds_data=True),
        )
        self.arn = instance.arn
        self.endpoint = instance.endpoint
        self.address = instance.address
        self.master_secret_arn = instance.master_user_secrets.apply(lambda s: s[0].secret_arn)
        self.register_outputs(
            {"endpoint": self.endpoint, "address": self.address, "master_secret_arn": self.master_secret_arn}
        )
