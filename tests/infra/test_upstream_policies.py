"""Controller IAM roles allow every action their upstream project documents (platform/upstream/iam).

A role narrower than upstream's policy fails at run time in ways the plan never shows (issue 15,
finding 2: no ingress rules on the cluster's group, no WAF association, untagged listeners).
"""

from __future__ import annotations

import json

import pytest

from florai_infra import names, upstream
from tests.infra.iam_actions import missing_actions, upstream_actions

CONTROLLERS = [
    (names.LOAD_BALANCER_CONTROLLER, "aws-load-balancer-controller"),
    (names.EXTERNAL_DNS, "external-dns"),
    (names.CLUSTER_AUTOSCALER, "cluster-autoscaler"),
]


def _statements(plan, account) -> list[dict]:
    role = next(
        r
        for r in plan.by_type("aws:iam/role:Role")
        if r.inputs["name"] == f"florai-{plan.stack}-{account.key}"
    )
    inline = [p for p in plan.by_type("aws:iam/rolePolicy:RolePolicy") if role.urn in p.dependencies]
    return [s for p in inline for s in json.loads(p.inputs["policy"])["Statement"]]


@pytest.mark.parametrize(("account", "controller"), CONTROLLERS, ids=[c for _, c in CONTROLLERS])
def test_role_allows_every_upstream_action(plan, account, controller):
    required = upstream_actions(upstream.iam_policy(controller))
    assert required, controller
    assert missing_actions(_statements(plan, account), required) == []


def test_cloudwatch_exporter_allows_yaces_documented_minimum(plan):
    minimum = set(upstream.iam_sources()["yace-cloudwatch-exporter.json"]["minimum_actions"])
    assert minimum <= upstream_actions(upstream.iam_policy("yace-cloudwatch-exporter"))
    assert missing_actions(_statements(plan, names.CLOUDWATCH_EXPORTER), minimum) == []


def test_a_missing_upstream_action_is_caught():
    upstream_lbc = upstream.iam_policy("aws-load-balancer-controller")
    required = upstream_actions(upstream_lbc)
    narrowed = [
        {**s, "Action": [a for a in s["Action"] if a != "elasticloadbalancing:SetWebAcl"]}
        if isinstance(s["Action"], list)
        else s
        for s in upstream_lbc["Statement"]
    ]
    assert "elasticloadbalancing:SetWebAcl" in required
    assert missing_actions(narrowed, required) == ["elasticloadbalancing:SetWebAcl"]
    assert (
        missing_actions([{"Effect": "Allow", "Action": "elasticloadbalancing:*"}], required) != []
    )  # ec2 too
    assert (
        missing_actions(
            [
                {
                    "Effect": "Allow",
                    "Action": [
                        "ec2:*",
                        "elasticloadbalancing:*",
                        "iam:*",
                        "cognito-idp:*",
                        "acm:*",
                        "waf-regional:*",
                        "wafv2:*",
                        "shield:*",
                        "tag:*",
                    ],
                }
            ],
            required,
        )
        == []
    )


def test_every_vendored_policy_names_its_source():
    sources = upstream.iam_sources()
    for path in upstream.path("iam", ".").iterdir():
        if path.suffix == ".json":
            entry = sources[path.name]
            assert entry["url"].startswith("https://github.com/") and entry["retrieved"] and entry["version"]
