"""WAF: managed rule groups, per-IP rate limit, an upload limit derived from the service contract."""

from __future__ import annotations

import re

import pytest

from florai.contract import MAX_REQUEST_BYTES
from florai_infra.components.waf_rules import greater_than_pattern
from florai_infra.offline.engine import load_stack_config

ACL = "aws:wafv2/webAcl:WebAcl"


def _rules(plan) -> dict[str, dict]:
    return {r["name"]: r for r in plan.one(ACL).inputs["rules"]}


def test_acl_is_regional_with_the_four_managed_rule_groups(plan):
    acl = plan.one(ACL).inputs
    assert acl["scope"] == "REGIONAL"
    managed = {
        r["statement"]["managedRuleGroupStatement"]["name"]
        for r in acl["rules"]
        if "managedRuleGroupStatement" in r["statement"]
    }
    assert managed == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    }
    priorities = [r["priority"] for r in acl["rules"]]
    assert len(priorities) == len(set(priorities))


def test_rate_limit_per_client_ip_comes_from_config(plan):
    rule = _rules(plan)["rate-limit-per-ip"]
    assert rule["action"] == {"block": {}}
    statement = rule["statement"]["rateBasedStatement"]
    assert statement["aggregateKeyType"] == "IP"
    assert statement["limit"] == load_stack_config(plan.stack)["florai:wafRateLimit"]


def test_body_size_rule_blocks_content_length_above_the_contract_limit(plan):
    rule = _rules(plan)["request-body-too-large"]
    assert rule["action"] == {"block": {}}
    statement = rule["statement"]["regexMatchStatement"]
    assert statement["fieldToMatch"] == {"singleHeader": {"name": "content-length"}}
    pattern = statement["regexString"]
    assert pattern == greater_than_pattern(MAX_REQUEST_BYTES)
    assert re.fullmatch(pattern, str(MAX_REQUEST_BYTES + 1))
    assert not re.fullmatch(pattern, str(MAX_REQUEST_BYTES))


@pytest.mark.parametrize("limit", [0, 7, 9, 10, 99, 100, 109, 1000, 4096, 90909, MAX_REQUEST_BYTES])
def test_greater_than_pattern_matches_exactly_the_larger_numbers(limit):
    pattern = re.compile(greater_than_pattern(limit))
    around = range(max(0, limit - 1200), limit + 1200)
    powers = [10**k for k in range(12)] + [10**k - 1 for k in range(1, 12)]
    for value in [*around, *powers, limit * 10, limit * 10 + 9]:
        assert bool(pattern.fullmatch(str(value))) is (value > limit), (limit, value)
    assert bool(pattern.fullmatch(f"000{limit + 1}")) and not pattern.fullmatch(f"00{limit}")
    for junk in ("", "-1", "1e9", f"{limit + 1} ", "abc"):
        assert not pattern.fullmatch(junk)
    assert len(pattern.pattern) <= 512


def test_waf_logs_to_an_encrypted_aws_waf_logs_group(plan):
    logging = plan.one("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration").inputs
    (destination,) = logging["logDestinationConfigs"]
    group = next(
        g
        for g in plan.by_type("aws:cloudwatch/logGroup:LogGroup")
        if g.inputs["name"].startswith("aws-waf-logs-")
    )
    assert destination.endswith(f":log-group:{group.inputs['name']}")
    assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    assert {f["singleHeader"]["name"] for f in logging["redactedFields"]} >= {"x-api-key", "authorization"}


def test_acl_arn_is_exported(plan):
    assert plan.outputs["wafAclArn"].startswith("arn:aws:wafv2:")


def test_api_certificate_is_dns_validated_in_the_stacks_zone(plan):
    dns = load_stack_config(plan.stack)["florai:dns"]
    certificate = plan.one("aws:acm/certificate:Certificate").inputs
    assert certificate["domainName"] == plan.outputs["apiHostname"] == f"api.{dns['domainName']}"
    assert certificate["validationMethod"] == "DNS"
    (record,) = plan.by_type("aws:route53/record:Record")
    assert record.inputs["zoneId"] == dns["hostedZoneId"] == plan.outputs["hostedZoneId"]
    validation = plan.one("aws:acm/certificateValidation:CertificateValidation")
    assert record.urn in validation.dependencies
