"""IRSA roles: each trusts exactly one service account through the OIDC provider, least privilege."""

from __future__ import annotations

import json

import pytest

from florai_infra import names


def _role(plan, account):
    return next(
        r
        for r in plan.by_type("aws:iam/role:Role")
        if r.inputs["name"] == f"florai-{plan.stack}-{account.key}"
    )


def _policy(plan, account) -> list[dict]:
    role = _role(plan, account)
    inline = next(p for p in plan.by_type("aws:iam/rolePolicy:RolePolicy") if role.urn in p.dependencies)
    return json.loads(inline.inputs["policy"])["Statement"]


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


def test_load_balancer_controller_attaches_only_the_florai_acl(plan):
    (attach,) = [s for s in _policy(plan, names.LOAD_BALANCER_CONTROLLER) if s["Sid"] == "AttachFloraiWebAcl"]
    assert plan.outputs["wafAclArn"] in attach["Resource"]


def test_ebs_csi_has_driver_policy_and_key_grants(plan):
    role = _role(plan, names.EBS_CSI)
    attached = [
        a.inputs["policyArn"]
        for a in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if role.urn in a.dependencies
    ]
    assert attached == ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]
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
