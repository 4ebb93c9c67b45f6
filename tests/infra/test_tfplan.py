"""Checkov's AWS checks (terraform_plan) on every stack's plan, and the export they read."""

from __future__ import annotations

import pytest

from florai_infra import STACKS
from florai_infra.preview.snapshots import read_snapshot
from florai_infra.tfplan.checkov import load_waivers, scan
from florai_infra.tfplan.export import export, tf_key


@pytest.fixture(scope="module")
def checkov_scan():
    """One Checkov run over the three exported plans."""
    return scan({stack: read_snapshot(stack) for stack in STACKS})


def test_checkov_finds_no_unwaived_failure(checkov_scan):
    assert checkov_scan.failed == []
    assert checkov_scan.parsing_errors == []
    assert checkov_scan.files == set(STACKS)
    assert len(checkov_scan.passed) > 500


def test_every_waiver_has_a_reason_and_still_matches(checkov_scan):
    waivers = load_waivers()
    assert all(len(w.reason) > 30 for w in waivers), [w.check for w in waivers if len(w.reason) <= 30]
    assert checkov_scan.unused == []
    assert len(checkov_scan.waived) >= len(waivers)


def test_settings_made_through_separate_resources_are_seen(checkov_scan):
    """Encryption, versioning, public access block and replication live in their own resources."""
    passed = {(c["check_id"], c["file_path"].rsplit("/", 1)[-1], c["resource"]) for c in checkov_scan.passed}
    for check in ("CKV_AWS_145", "CKV_AWS_21", "CKV2_AWS_6"):  # KMS default encryption, versioning, PAB
        assert (check, "prod.tfplan.json", "aws_s3_bucket.models") in passed, check
    assert (
        "CKV_AWS_144",
        "prod.tfplan.json",
        "aws_s3_bucket.models",
    ) in passed  # replication to the DR region


def test_export_uses_terraform_names_and_links():
    document = export(read_snapshot("prod"))
    values = {r["address"]: r["values"] for r in document["planned_values"]["root_module"]["resources"]}
    config = {r["address"]: r["expressions"] for r in document["configuration"]["root_module"]["resources"]}
    sse = "aws_s3_bucket_server_side_encryption_configuration.models"
    assert values[sse]["rule"][0]["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"
    assert values[sse]["bucket"] is None  # known after apply: a reference, as Terraform plans it
    assert config[sse]["bucket"]["references"][:2] == ["aws_s3_bucket.models.id", "aws_s3_bucket.models"]
    cluster = values["aws_eks_cluster.cluster"]
    assert cluster["vpc_config"][0]["endpoint_public_access"] is False  # a single block, as a one-item list
    assert cluster["tags"]["cost-centre"] == "cc-florai-prod"  # map keys stay as written
    assert "aws_db_instance.database" in values and not any(a.startswith("kubernetes") for a in values)
    assert {r["change"]["actions"][0] for r in document["resource_changes"]} == {"create"}


def test_pulumi_plural_blocks_become_terraform_singular():
    attributes = {"rule", "inline_policy", "subnet_ids", "vpc_config"}
    assert tf_key("rules", attributes) == "rule"
    assert tf_key("inlinePolicies", attributes) == "inline_policy"
    assert tf_key("subnetIds", attributes) == "subnet_ids"
    assert tf_key("vpcConfig", attributes) == "vpc_config"


def test_links_are_found_in_every_stack_account(checkov_scan):
    """dev and staging have their own accounts: their WAF logging and bucket settings link up too."""
    passed = {(c["check_id"], c["file_path"].rsplit("/", 1)[-1], c["resource"]) for c in checkov_scan.passed}
    for stack in STACKS:
        assert ("CKV2_AWS_31", f"{stack}.tfplan.json", "aws_wafv2_web_acl.waf") in passed, stack
        assert ("CKV_AWS_18", f"{stack}.tfplan.json", "aws_s3_bucket.models") in passed, stack
        config = export(read_snapshot(stack))["configuration"]["root_module"]["resources"]
        logging = next(r for r in config if r["address"] == "aws_wafv2_web_acl_logging_configuration.waf")
        assert logging["expressions"]["resource_arn"]["references"][1] == "aws_wafv2_web_acl.waf"


def test_ci_runner_and_deploy_role_write_only_where_they_must(checkov_scan):
    """The runner's network writes and the deploy role's Route 53 / service-linked rights are scoped."""
    passed = {(c["check_id"], c["file_path"].rsplit("/", 1)[-1], c["resource"]) for c in checkov_scan.passed}
    for stack in STACKS:
        for check in ("CKV_AWS_290", "CKV_AWS_355"):
            assert (check, f"{stack}.tfplan.json", "aws_iam_role_policy.ci-runner") in passed
        assert ("CKV_AWS_355", f"{stack}.tfplan.json", "aws_iam_role_policy.ci-pulumi-deploy") in passed
