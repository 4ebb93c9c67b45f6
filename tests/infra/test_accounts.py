"""One AWS account per environment; account-wide singletons declared by exactly one stack per account.

Staging and prod once both declared the account's ECR replication configuration (the last apply
wins) and their deploy roles shared one account, so the staging pipeline could reach prod's data.
"""

from __future__ import annotations

import json
from collections import defaultdict

from florai_infra import STACKS
from florai_infra.components.ci_roles import GITHUB_OIDC_HOST
from florai_infra.offline.engine import load_stack_config
from tests.infra.conftest import stack_plan
from tests.infra.stack_values import account_ids

# Resources AWS keeps once per account (and region): two stacks declaring one overwrite each other.
ACCOUNT_SINGLETONS = {
    "aws:ecr/replicationConfiguration:ReplicationConfiguration": lambda r: "ecr-replication",
    "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration": lambda r: "ecr-scanning",
    "aws:ecr/registryPolicy:RegistryPolicy": lambda r: "ecr-registry-policy",
    "aws:codebuild/sourceCredential:SourceCredential": lambda r: (
        f"codebuild-credential-{r.inputs.get('serverType')}"
    ),
    "aws:iam/accountPasswordPolicy:AccountPasswordPolicy": lambda r: "password-policy",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": lambda r: f"oidc-{r.inputs['url']}",
}


def singletons_by_account(plans) -> dict[tuple[str, str], list[str]]:
    """(account, singleton) -> the stacks that declare it."""
    declared: dict[tuple[str, str], list[str]] = defaultdict(list)
    for plan in plans:
        account = account_ids(plan.stack)[0]
        for resource in plan.custom_resources:
            key = ACCOUNT_SINGLETONS.get(resource.type)
            if key is not None:
                declared[(account, key(resource))].append(plan.stack)
    return declared


def test_each_stack_names_its_own_account():
    accounts = [account_ids(stack) for stack in STACKS]
    assert all(len(ids) == 1 for ids in accounts)
    assert len({ids[0] for ids in accounts}) == len(STACKS)


def test_no_two_stacks_declare_the_same_account_wide_singleton():
    declared = singletons_by_account([stack_plan(s) for s in STACKS])
    assert declared and all(len(stacks) == 1 for stacks in declared.values()), dict(declared)


def test_a_shared_account_would_be_caught(dev_plan, staging_plan, prod_plan):
    class SameAccount:
        def __init__(self, plan):
            self.stack, self.custom_resources = "prod", plan.custom_resources

    shared = singletons_by_account([SameAccount(staging_plan), SameAccount(prod_plan)])
    assert any(len(stacks) == 2 for stacks in shared.values())


def test_every_account_has_its_github_provider(plan):
    providers = [
        p
        for p in plan.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
        if GITHUB_OIDC_HOST in p.inputs["url"]
    ]
    assert len(providers) == 1


def test_promotion_pulls_across_accounts_only_from_the_previous_environment(staging_plan, prod_plan):
    for plan, source in ((staging_plan, "dev"), (prod_plan, "staging")):
        assert (
            load_stack_config(plan.stack)["florai:github"]["imageSourceAccountId"] == account_ids(source)[0]
        )
        role = next(
            r for r in plan.by_type("aws:iam/role:Role") if r.inputs["name"].endswith("ci-image-promote")
        )
        policy = next(p for p in plan.by_type("aws:iam/rolePolicy:RolePolicy") if role.urn in p.dependencies)
        (pull,) = [
            s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Sid"] == "PullSourceRepository"
        ]
        assert pull["Resource"] == [
            f"arn:aws:ecr:us-east-1:{account_ids(source)[0]}:repository/florai-{source}/{image}"
            for image in ("inference", "ui")
        ]
        # ... and each source repository lets exactly this account pull.
        source_policies = stack_plan(source).by_type("aws:ecr/repositoryPolicy:RepositoryPolicy")
        assert len(source_policies) == 2
        for source_policy in source_policies:
            (grant,) = json.loads(source_policy.inputs["policy"])["Statement"]
            assert grant["Principal"] == {"AWS": [f"arn:aws:iam::{account_ids(plan.stack)[0]}:root"]}
            assert all(
                a.startswith(("ecr:BatchGet", "ecr:BatchCheck", "ecr:Describe", "ecr:GetDownload"))
                for a in grant["Action"]
            )


def test_deploy_roles_reach_only_their_own_account(plan):
    role = next(r for r in plan.by_type("aws:iam/role:Role") if r.inputs["name"].endswith("ci-pulumi-deploy"))
    policy = next(p for p in plan.by_type("aws:iam/rolePolicy:RolePolicy") if role.urn in p.dependencies)
    account = account_ids(plan.stack)[0]
    for statement in json.loads(policy.inputs["policy"])["Statement"]:
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for arn in resources:
            assert arn == "*" or arn.split(":")[4] in ("", account), arn
    # The trust is this account's GitHub provider, for this environment only.
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"]["Federated"].split(":")[4] == account
    assert trust["Condition"]["StringEquals"][f"{GITHUB_OIDC_HOST}:sub"].endswith(
        f":environment:{plan.stack}"
    )
