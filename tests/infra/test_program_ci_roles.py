"""CI roles (GitHub Actions OIDC): trusted only from this repository's GitHub environments that the
workflows run in, least privilege per job, ARNs exported for the repository variables."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from florai_infra import names
from florai_infra.components.ci_roles import (
    GITHUB_OIDC_AUDIENCE,
    GITHUB_OIDC_HOST,
    IMAGE_PROMOTE,
    IMAGE_PUSH,
    PULUMI_DEPLOY,
    PULUMI_PREVIEW,
)
from florai_infra.offline.engine import load_stack_config

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
ROLE = "aws:iam/role:Role"
PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
# Repository variable each workflow reads -> the CI role it must hold.
VARIABLES = {
    "AWS_IMAGE_PUSH_ROLE_ARN": IMAGE_PUSH,
    "AWS_IMAGE_PROMOTE_ROLE_ARN": IMAGE_PROMOTE,
    "AWS_PULUMI_DEPLOY_ROLE_ARN": PULUMI_DEPLOY,
    "AWS_PULUMI_PREVIEW_ROLE_ARN": PULUMI_PREVIEW,
}


def _repository(stack: str) -> str:
    return load_stack_config(stack)["florai:github"]["repository"]


def _role(plan, key):
    return next(r for r in plan.by_type(ROLE) if r.inputs["name"] == f"florai-{plan.stack}-ci-{key}")


def _statements(plan, key) -> dict[str, dict]:
    role = _role(plan, key)
    inline = next(p for p in plan.by_type("aws:iam/rolePolicy:RolePolicy") if role.urn in p.dependencies)
    return {s["Sid"]: s for s in json.loads(inline.inputs["policy"])["Statement"]}


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _workflow_jobs(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())["jobs"]


def test_github_provider_is_created_once_per_account_and_referenced_elsewhere(plan):
    providers = [p for p in plan.by_type(PROVIDER) if p.inputs["url"] == f"https://{GITHUB_OIDC_HOST}"]
    creates = load_stack_config(plan.stack)["florai:github"]["createOidcProvider"]
    assert len(providers) == (1 if creates else 0)
    if creates:
        assert providers[0].inputs["clientIdLists"] == [GITHUB_OIDC_AUDIENCE]
    account = plan.outputs["awsAccountId"]
    assert plan.outputs["githubOidcProviderArn"] == f"arn:aws:iam::{account}:oidc-provider/{GITHUB_OIDC_HOST}"


def test_ci_roles_per_stack_follow_the_promotion_chain(plan):
    image = IMAGE_PROMOTE if plan.stack in names.PROMOTED_FROM else IMAGE_PUSH
    assert set(plan.outputs["ciRoleArns"]) == {image, PULUMI_PREVIEW, PULUMI_DEPLOY}
    for key, arn in plan.outputs["ciRoleArns"].items():
        assert arn == f"arn:aws:iam::{plan.outputs['awsAccountId']}:role/florai-{plan.stack}-ci-{key}"


def test_trust_is_this_repository_in_one_github_environment(plan):
    repository = _repository(plan.stack)
    for key in plan.outputs["ciRoleArns"]:
        (statement,) = json.loads(_role(plan, key).inputs["assumeRolePolicy"])["Statement"]
        environment = f"{plan.stack}-preview" if key == PULUMI_PREVIEW else plan.stack
        assert statement["Principal"] == {"Federated": plan.outputs["githubOidcProviderArn"]}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"] == {
            "StringEquals": {
                f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
                f"{GITHUB_OIDC_HOST}:sub": f"repo:{repository}:environment:{environment}",
            }
        }


def test_the_workflows_run_in_the_environments_the_roles_trust():
    """A token's sub names the job's environment: these are the ones the trust policies name."""
    (image,) = _workflow_jobs("image.yml").values()
    assert image["environment"] == "dev" and "AWS_IMAGE_PUSH_ROLE_ARN" in json.dumps(image)
    (promote,) = _workflow_jobs("promote.yml").values()
    assert promote["environment"] == "${{ inputs.target }}" and "AWS_IMAGE_PROMOTE_ROLE_ARN" in json.dumps(
        promote
    )
    pulumi = _workflow_jobs("pulumi-stack.yml")
    # The plan (and every pull-request preview) with the preview role; the apply with the deploy role.
    assert pulumi["plan"]["environment"] == "${{ format('{0}-preview', inputs.stack) }}"
    assert "AWS_PULUMI_PREVIEW_ROLE_ARN" in json.dumps(pulumi["plan"])
    assert "AWS_PULUMI_DEPLOY_ROLE_ARN" not in json.dumps(pulumi["plan"])
    assert pulumi["apply"]["environment"] == "${{ inputs.stack }}"
    assert "AWS_PULUMI_DEPLOY_ROLE_ARN" in json.dumps(pulumi["apply"])
    infra = _workflow_jobs("infra.yml")
    # Pull requests only ever preview: the deploy environments are reached from pushes to main.
    assert infra["preview"]["if"] == "github.event_name == 'pull_request'"
    assert infra["up-dev"]["if"] == "github.event_name == 'push'"
    assert [job["with"]["command"] for name, job in infra.items() if name.startswith("up-")] == ["up"] * 3


def test_image_push_reaches_only_this_stacks_repository(dev_plan):
    statements = _statements(dev_plan, IMAGE_PUSH)
    assert set(statements) == {"EcrLogin", "PushOwnRepository"}
    assert statements["EcrLogin"]["Action"] == "ecr:GetAuthorizationToken"
    push = statements["PushOwnRepository"]
    # The API image's and the web UI's repositories of this stack, nothing else.
    assert [arn.split(":repository/")[1] for arn in push["Resource"]] == list(names.image_repositories("dev"))
    assert dev_plan.outputs["ecrRepositoryUrl"].endswith(names.image_repository("dev"))
    assert dev_plan.outputs["uiEcrRepositoryUrl"].endswith(names.ui_image_repository("dev"))
    assert "ecr:PutImage" in push["Action"] and not any(a.startswith("ecr:Delete") for a in push["Action"])


@pytest.mark.parametrize("stack,source", sorted(names.PROMOTED_FROM.items()))
def test_promotion_pulls_from_the_source_and_pushes_to_the_target(stack, source, staging_plan, prod_plan):
    plan = {"staging": staging_plan, "prod": prod_plan}[stack]
    statements = _statements(plan, IMAGE_PROMOTE)
    pull, push = statements["PullSourceRepository"], statements["PushOwnRepository"]
    assert [arn.split(":repository/")[1] for arn in pull["Resource"]] == list(
        names.image_repositories(source)
    )
    assert not any(a in pull["Action"] for a in ("ecr:PutImage", "ecr:InitiateLayerUpload"))
    assert [arn.split(":repository/")[1] for arn in push["Resource"]] == list(names.image_repositories(stack))
    assert "ecr:PutImage" in push["Action"]


def test_preview_is_read_only_without_data_reads(plan):
    role = _role(plan, PULUMI_PREVIEW)
    attached = [
        a.inputs["policyArn"]
        for a in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if role.urn in a.dependencies
    ]
    assert attached == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    (deny,) = _statements(plan, PULUMI_PREVIEW).values()
    assert deny["Effect"] == "Deny" and deny["Resource"] == "*"
    assert {"secretsmanager:GetSecretValue", "s3:GetObject", "kms:Decrypt"} <= set(deny["Action"])


def test_deploy_is_scoped_to_the_stacks_regions_and_its_own_iam(plan):
    statements = _statements(plan, PULUMI_DEPLOY)
    allowed = [s for s in statements.values() if s["Effect"] == "Allow"]
    actions = [a for s in allowed for a in _as_list(s["Action"])]
    assert "*" not in actions and not any(a.startswith("iam:*") or a == "iam:*" for a in actions)
    regions = [plan.outputs["awsRegion"], *([plan.outputs["drRegion"]] if "drRegion" in plan.outputs else [])]
    services = statements["StackServicesInStackRegions"]
    assert services["Condition"] == {"StringEquals": {"aws:RequestedRegion": regions}}
    for statement in allowed:
        iam_actions = [a for a in _as_list(statement["Action"]) if a.startswith("iam:")]
        if iam_actions and statement["Sid"] != "ServiceLinkedRoles":
            for resource in _as_list(statement["Resource"]):
                assert f":role/florai-{plan.stack}-" in resource or ":oidc-provider/" in resource, resource
    linked = statements["ServiceLinkedRoles"]
    assert linked["Action"] == "iam:CreateServiceLinkedRole" and "Condition" in linked
    guard = statements["NoChangesToTheCiRoles"]
    assert guard["Effect"] == "Deny" and guard["Resource"].endswith(f":role/florai-{plan.stack}-ci-*")
    assert {"iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"} <= set(guard["Action"])


def test_deploy_can_attach_every_managed_policy_the_program_attaches(plan):
    (attach,) = [
        s
        for s in _statements(plan, PULUMI_DEPLOY).values()
        if s["Sid"] == "AttachOnlyTheProgramsManagedPolicies"
    ]
    allowed = set(attach["Condition"]["ArnNotEquals"]["iam:PolicyARN"])
    ci_urns = {_role(plan, k).urn for k in plan.outputs["ciRoleArns"]}
    used = {
        a.inputs["policyArn"]
        for a in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if not ci_urns & set(a.dependencies)
    }
    assert used <= allowed


def test_deploy_manages_every_role_the_stack_declares(plan):
    ci = {f"florai-{plan.stack}-ci-{k}" for k in plan.outputs["ciRoleArns"]}
    for role in plan.by_type(ROLE):
        assert role.inputs["name"].startswith(f"florai-{plan.stack}-"), role.inputs["name"]
    assert ci <= {r.inputs["name"] for r in plan.by_type(ROLE)}


def test_readme_maps_each_repository_variable_to_a_stack_output():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Running for real", 1)[1].split("\n## ", 1)[0]
    for variable, key in VARIABLES.items():
        assert variable in section and f"ciRoleArns.{key}" in section, variable
    workflows = "\n".join(p.read_text() for p in (REPO / ".github" / "workflows").glob("*.yml"))
    used = set(re.findall(r"vars\.(AWS_\w+_ROLE_ARN)", workflows))
    assert used == set(VARIABLES), used ^ set(VARIABLES)


def test_github_repository_must_be_owner_slash_name():
    from florai_infra.config import ConfigError, settings_from_mapping

    values = {
        **{
            k.removeprefix("florai:"): v
            for k, v in load_stack_config("dev").items()
            if k.startswith("florai:")
        }
    }
    values["github"] = {"repository": "https://github.com/florai/florai", "createOidcProvider": True}
    with pytest.raises(ConfigError, match="github"):
        settings_from_mapping("dev", values, "us-east-1", ["345678901234"])
    values["github"] = {"repository": "florai/florai", "createOidcProvider": True}
    assert (
        settings_from_mapping("dev", values, "us-east-1", ["345678901234"]).github.repository
        == "florai/florai"
    )
