"""WAF rule statements derived from the service contract (body-size limit, rate limit)."""

from __future__ import annotations

from florai.contract import API_KEY_HEADER, MAX_REQUEST_BYTES

CONTENT_LENGTH_HEADER = "content-length"
WAF_REGEX_MAX_CHARS = 512  # AWS WAF's limit on one regex string


def greater_than_pattern(limit: int) -> str:
    """A regex matching exactly the decimal integers greater than ``limit`` (leading zeros allowed)."""
    if limit < 0:
        raise ValueError("limit must be >= 0")
    digits = str(limit)
    width = len(digits)
    # Any number with more significant digits than the limit is larger.
    alternatives = [f"[1-9][0-9]{{{width},}}"]
    # Same width: equal on a prefix, then one larger digit, then anything.
    for i, ch in enumerate(digits):
        if ch == "9":
            continue
        rest = width - i - 1
        tail = f"[0-9]{{{rest}}}" if rest else ""
        alternatives.append(f"{digits[:i]}[{int(ch) + 1}-9]{tail}")
    pattern = "^0*(" + "|".join(alternatives) + ")$"
    if len(pattern) > WAF_REGEX_MAX_CHARS:
        raise ValueError(f"pattern for {limit} exceeds WAF's {WAF_REGEX_MAX_CHARS} characters")
    return pattern


def visibility(metric: str) -> dict:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


def body_size_rule(priority: int) -> dict:
    # An ALB's WAF inspects only the first 8 KB of a body, so the upload limit is enforced on Content-Length.
    return {
        "name": "request-body-too-large",
        "priority": priority,
        "action": {"block": {}},
        "statement": {
            "regex_match_statement": {
                "regex_string": greater_than_pattern(MAX_REQUEST_BYTES),
                "field_to_match": {"single_header": {"name": CONTENT_LENGTH_HEADER}},
                "text_transformations": [{"priority": 0, "type": "NONE"}],
            }
        },
        "visibility_config": visibility("request-body-too-large"),
    }


def rate_limit_rule(priority: int, limit: int) -> dict:
    return {
        "name": "rate-limit-per-ip",
        "priority": priority,
        "action": {"block": {}},
        "statement": {"rate_based_statement": {"limit": limit, "aggregate_key_type": "IP"}},
        "visibility_config": visibility("rate-limit-per-ip"),
    }


MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)


def managed_rule(priority: int, group: str) -> dict:
    statement: dict = {"name": group, "vendor_name": "AWS"}
    if group == "AWSManagedRulesCommonRuleSet":
        # Image uploads exceed the rule set's 8 KB body check; our own rule bounds the size instead.
        statement["rule_action_overrides"] = [
            {"name": "SizeRestrictions_BODY", "action_to_use": {"count": {}}}
        ]
    return {
        "name": group,
        "priority": priority,
        "override_action": {"none": {}},
        "statement": {"managed_rule_group_statement": statement},
        "visibility_config": visibility(group),
    }


def all_rules(rate_limit: int) -> list[dict]:
    rules = [body_size_rule(0), rate_limit_rule(1, rate_limit)]
    rules += [managed_rule(10 + i, group) for i, group in enumerate(MANAGED_RULE_GROUPS)]
    return rules


REDACTED_HEADERS = (API_KEY_HEADER.lower(), "authorization")
