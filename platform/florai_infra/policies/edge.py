"""WAFv2: the web ACL in front of the API runs the AWS baseline rule groups and a rate limit."""

from __future__ import annotations

import json
from collections.abc import Mapping

from florai_infra.policies.model import Enforcement, Props, ReportResource, ResourcePolicy
from florai_infra.policies.props import as_list, dig
from florai_infra.policies.resource_types import WEB_ACL

AWS_VENDOR = "AWS"
REQUIRED_MANAGED_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


def _statements(props: Props) -> list[Mapping]:
    """Top-level rule statements in camelCase, from ``rules`` or from the raw ``ruleJson``."""
    statements = [dig(rule, "statement") or {} for rule in as_list(props.get("rules"))]
    raw = props.get("ruleJson")
    if isinstance(raw, str) and raw.strip():
        for rule in json.loads(raw):
            s = rule.get("Statement") or {}
            managed = s.get("ManagedRuleGroupStatement")
            statements.append(
                {
                    "managedRuleGroupStatement": managed
                    and {"name": managed.get("Name"), "vendorName": managed.get("VendorName")},
                    "rateBasedStatement": s.get("RateBasedStatement"),
                }
            )
    return statements


def _baseline_rules(props: Props, report: ReportResource) -> None:
    statements = _statements(props)
    managed = {
        dig(s, "managedRuleGroupStatement", "name")
        for s in statements
        if dig(s, "managedRuleGroupStatement", "vendorName") == AWS_VENDOR
    }
    missing = [g for g in REQUIRED_MANAGED_GROUPS if g not in managed]
    if missing:
        report(f"web ACL lacks the AWS managed rule groups {', '.join(missing)}")
    if not any(dig(s, "rateBasedStatement") for s in statements):
        report("web ACL has no rate-based rule: one client can flood the API")


EDGE_POLICIES = (
    ResourcePolicy(
        name="waf-baseline-rules",
        description="The web ACL runs the four AWS baseline managed rule groups and a rate-based rule.",
        enforcement=Enforcement.MANDATORY,
        resource_types=(WEB_ACL,),
        validate=_baseline_rules,
    ),
)
