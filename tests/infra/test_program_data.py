"""RDS PostgreSQL and ElastiCache Redis: private, encrypted, reachable from the nodes only."""

from __future__ import annotations

from florai_infra.offline.engine import load_stack_config

RDS = "aws:rds/instance:Instance"
REDIS = "aws:elasticache/replicationGroup:ReplicationGroup"
SG = "aws:ec2/securityGroup:SecurityGroup"


def _ingress_of(plan, name_suffix):
    """Ingress rules of the security group, after checking they come from the EKS cluster's group."""
    sg = next(s for s in plan.by_type(SG) if s.inputs["name"].endswith(name_suffix))
    assert plan.one("aws:eks/cluster:Cluster").urn in sg.dependencies
    return sg.inputs["ingress"]


def test_database_is_private_encrypted_and_iam_authenticated(plan):
    db = plan.one(RDS).inputs
    assert db["publiclyAccessible"] is False
    assert db["storageEncrypted"] is True and db["kmsKeyId"].startswith("arn:aws:kms:")
    assert db["manageMasterUserPassword"] is True
    assert db["masterUserSecretKmsKeyId"].startswith("arn:aws:kms:")
    assert "password" not in db
    assert db["iamDatabaseAuthenticationEnabled"] is True
    assert db["performanceInsightsEnabled"] is True
    assert db["performanceInsightsKmsKeyId"].startswith("arn:aws:kms:")
    expected = load_stack_config(plan.stack)["florai:database"]["backupRetentionDays"]
    assert db["backupRetentionPeriod"] == expected >= 7


def test_database_accepts_postgres_from_the_node_security_group_only(plan):
    (rule,) = _ingress_of(plan, "-db")
    assert (rule["fromPort"], rule["toPort"], rule["protocol"]) == (5432, 5432, "tcp")
    assert not rule.get("cidrBlocks")
    (source,) = rule["securityGroups"]
    assert source.startswith("sg-")


def test_parameter_group_forces_tls_and_logs_slow_queries(plan):
    params = {
        p["name"]: p["value"] for p in plan.one("aws:rds/parameterGroup:ParameterGroup").inputs["parameters"]
    }
    assert params["rds.force_ssl"] == "1"
    assert int(params["log_min_duration_statement"]) > 0
    assert (
        plan.one(RDS).inputs["parameterGroupName"]
        == plan.one("aws:rds/parameterGroup:ParameterGroup").inputs["name"]
    )


def test_prod_and_staging_database_is_multi_az_protected_with_final_snapshot(prod_plan, staging_plan):
    for plan in (prod_plan, staging_plan):
        db = plan.one(RDS).inputs
        assert db["multiAz"] is True
        assert db["deletionProtection"] is True
        assert db["skipFinalSnapshot"] is False and db["finalSnapshotIdentifier"]


def test_dev_database_is_single_az_without_final_snapshot(dev_plan):
    db = dev_plan.one(RDS).inputs
    assert db["multiAz"] is False
    assert db["skipFinalSnapshot"] is True


def test_redis_is_encrypted_at_rest_and_in_transit_with_a_secret_token(plan):
    redis = plan.one(REDIS).inputs
    assert redis["atRestEncryptionEnabled"] is True and redis["kmsKeyId"].startswith("arn:aws:kms:")
    assert redis["transitEncryptionEnabled"] is True
    assert redis["authToken"] == "[secret]"
    version = plan.one("aws:secretsmanager/secretVersion:SecretVersion", "cache-auth").inputs
    assert version["secretString"] == "[secret]"
    secret = plan.one("aws:secretsmanager/secret:Secret", "cache-auth").inputs
    assert secret["kmsKeyId"].startswith("arn:aws:kms:")
    cache = load_stack_config(plan.stack)["florai:cache"]
    assert redis["snapshotRetentionLimit"] == cache["snapshotRetentionDays"]
    assert redis["numCacheClusters"] == 1 + cache["replicas"]


def test_redis_fails_over_automatically_where_it_has_replicas(plan):
    redis = plan.one(REDIS).inputs
    replicated = load_stack_config(plan.stack)["florai:cache"]["replicas"] > 0
    assert redis["automaticFailoverEnabled"] is replicated
    assert redis["multiAzEnabled"] is replicated
    assert replicated == (plan.stack != "dev")


def test_redis_accepts_connections_from_the_nodes_only(plan):
    (rule,) = _ingress_of(plan, "-cache")
    assert (rule["fromPort"], rule["toPort"]) == (6379, 6379)
    assert not rule.get("cidrBlocks") and rule["securityGroups"][0].startswith("sg-")
    db_rule = _ingress_of(plan, "-db")[0]
    assert rule["securityGroups"] == db_rule["securityGroups"]


def test_database_pins_the_major_version_and_takes_minor_upgrades(plan):
    db = plan.one(RDS).inputs
    major = load_stack_config(plan.stack).get("florai:database", {}).get("engineVersion", "17")
    assert db["engineVersion"] == major and "." not in db["engineVersion"]
    assert db["autoMinorVersionUpgrade"] is True
    assert plan.one("aws:rds/parameterGroup:ParameterGroup").inputs["family"] == f"postgres{major}"


def test_database_has_enhanced_monitoring_with_the_aws_role_policy(plan):
    db = plan.one(RDS).inputs
    assert db["monitoringInterval"] == 60
    role = next(r for r in plan.by_type("aws:iam/role:Role") if r.inputs["name"].endswith("-rds-monitoring"))
    assert db["monitoringRoleArn"].endswith(f":role/{role.inputs['name']}")
    assert "monitoring.rds.amazonaws.com" in role.inputs["assumeRolePolicy"]
    attachment = next(
        a
        for a in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if role.urn in a.dependencies
    )
    assert (
        attachment.inputs["policyArn"]
        == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    )
