"""IRSA roles: each trusts exactly one service account through the OIDC provider, least privilege."""

from __future__ import annotations

import json

import pytest

from florai_infra import names, upstream


def _role(plan, account):
    return next(
        r
        for r in plan.by_type("aws:iam/role:Role")
        if r.inputs["name"] == f"florai-{plan.stack}-{account.key}"
    )


def _policy(plan, account) -> list[dict]:
    """The role's inline statements ([] for a role with only an AWS-managed policy)."""
    role = _role(plan, account)
    inline = [p for p in plan.by_type("aws:iam/rolePolicy:RolePolicy") if role.urn in p.dependencies]
    return [s for p in inline for s in json.loads(p.inputs["policy"])["Statement"]]


def _managed(plan, account) -> list[str]:
    role = _role(plan, account)
    return [
        a.inputs["policyArn"]
        for a in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if role.urn in a.dependencies
    ]


@pytest.mark.parametrize("account", names.IRSA_SERVICE_ACCOUNTS, ids=lambda a: a.key)
def test_trust_policy_names_the_service_account_and_sts_audience(plan, account):
    (statement,) = json.loads(_role(plan, account).inputs["assumeRolePolicy"])["Statement"]
    oidc_arn = plan.outputs["oidcProviderArn"]
    issuer = oidc_arn.split(":oidc-provider/", 1)[1]
    assert statement["Principal"] == {"Federated": oidc_arn}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"]["StringEquals"] == {
        f"{issuer}:sub": f"system:serviceaccount:{account.namespace}:{account.name}",
        f"{issuer}:aud": "sts.amazonaws.com",
    }


def test_no_irsa_policy_allows_everything(plan):
    for account in names.IRSA_SERVICE_ACCOUNTS:
        for statement in _policy(plan, account):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert "*" not in actions and not any(a.endswith(":*") for a in actions)


def test_inference_reads_only_its_bucket_key_and_secrets(plan):
    bucket = plan.outputs["modelBucketName"]
    statements = {s["Sid"]: s for s in _policy(plan, names.INFERENCE)}
    assert statements["ReadModels"]["Resource"] == f"arn:aws:s3:::{bucket}/*"
    assert statements["ListModels"]["Resource"] == f"arn:aws:s3:::{bucket}"
    assert statements["DecryptModels"]["Resource"].startswith("arn:aws:kms:")
    assert f":secret:florai/{plan.stack}/inference/" in statements["ReadOwnSecrets"]["Resource"]
    assert not any(
        a.startswith("s3:Put") for s in statements.values() for a in s["Action"] if isinstance(a, str)
    )


def test_external_secrets_reads_only_florai_secrets(plan):
    (read,) = [s for s in _policy(plan, names.EXTERNAL_SECRETS) if s["Sid"] == "ReadFloraiSecrets"]
    assert "secretsmanager:GetSecretValue" in read["Action"]
    assert all(
        f":secret:florai/{plan.stack}/" in r or r == plan.outputs["databaseSecretArn"]
        for r in read["Resource"]
    )


def test_cluster_autoscaler_scales_only_this_clusters_groups(plan):
    (scale,) = [s for s in _policy(plan, names.CLUSTER_AUTOSCALER) if s["Sid"] == "ScaleOwnGroups"]
    assert scale["Condition"] == {
        "StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/florai-{plan.stack}": "owned"}
    }


def test_load_balancer_controller_has_upstreams_policy_unchanged(plan):
    # A narrowed hand copy once left the ALB's targets unreachable (finding 2 of issue 15).
    assert (
        _policy(plan, names.LOAD_BALANCER_CONTROLLER)
        == upstream.iam_policy("aws-load-balancer-controller")["Statement"]
    )


def test_vpc_cni_has_the_cni_policy_on_its_own_role_only(plan):
    assert _managed(plan, names.VPC_CNI) == ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"]
    assert _policy(plan, names.VPC_CNI) == []


def test_external_dns_changes_only_the_stacks_zone(plan):
    zone = plan.outputs["hostedZoneId"]
    (change,) = [
        s for s in _policy(plan, names.EXTERNAL_DNS) if "route53:ChangeResourceRecordSets" in s["Action"]
    ]
    assert change["Resource"] == f"arn:aws:route53:::hostedzone/{zone}"


def test_log_shipper_writes_only_the_container_log_group(plan):
    (write,) = _policy(plan, names.LOG_SHIPPER)
    group = plan.outputs["containerLogGroup"]
    assert all(f":log-group:{group}" in r for r in write["Resource"])
    assert sorted(write["Action"]) == ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]


def test_cloudwatch_exporter_only_reads(plan):
    actions = [a for s in _policy(plan, names.CLOUDWATCH_EXPORTER) for a in s["Action"]]
    assert actions and all(a.split(":")[1].startswith(("Get", "List")) for a in actions)


def test_ebs_csi_has_driver_policy_and_key_grants(plan):
    assert _managed(plan, names.EBS_CSI) == ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]
    grants = next(s for s in _policy(plan, names.EBS_CSI) if s["Sid"] == "GrantsForVolumes")
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_role_arns_are_exported_per_service_account(plan):
    assert set(plan.outputs["roleArns"]) == {a.key for a in names.IRSA_SERVICE_ACCOUNTS}


def test_backup_exporter_only_describes_this_stacks_database_and_backups(plan):
    account = plan.outputs["awsAccountId"]
    region = plan.outputs["awsRegion"]
    instance = f"arn:aws:rds:{region}:{account}:db:florai-{plan.stack}"
    statements = _policy(plan, names.BACKUP_EXPORTER)
    actions = sorted(s["Action"] for s in statements)
    assert actions == [
        "rds:DescribeDBInstanceAutomatedBackups",
        "rds:DescribeDBInstances",
        "rds:DescribeDBSnapshots",
    ]
    assert plan.outputs["roleArns"]["backup-exporter"].endswith(f":role/florai-{plan.stack}-backup-exporter")
    for statement in statements:
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        assert "*" not in resources
        assert all(r.startswith(f"arn:aws:rds:{region}:{account}:") for r in resources)
        assert instance in resources
    snapshots = next(s for s in statements if s["Action"] == "rds:DescribeDBSnapshots")["Resource"]
    assert all(r == instance or (":snapshot:" in r and f"florai-{plan.stack}-" in r) for r in snapshots)
    assert names.BACKUP_EXPORTER.subject == "system:serviceaccount:florai:florai-backup-exporter"
