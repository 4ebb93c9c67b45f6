"""EKS: pinned version, private API, logs, envelope encryption, access entries, node groups, add-ons."""

from __future__ import annotations

import json

from florai_infra import upstream
from florai_infra.offline.engine import load_stack_config, run_stack

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
GPU_FAMILIES = ("g5.", "g6.", "g6e.")


def _template_of(plan, group):
    return next(lt for lt in plan.by_type(LAUNCH_TEMPLATE) if lt.urn in group.dependencies)


def test_control_plane_is_pinned_logged_and_encrypted(plan):
    cluster = plan.one(CLUSTER).inputs
    assert cluster["version"] == str(load_stack_config(plan.stack)["florai:kubernetesVersion"])
    assert set(cluster["enabledClusterLogTypes"]) == {
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    }
    assert cluster["encryptionConfig"]["resources"] == ["secrets"]
    eks_key = next(k for k in plan.by_type("aws:kms/key:Key") if k.inputs["tags"]["purpose"] == "eks")
    assert eks_key.urn in plan.one(CLUSTER).dependencies
    assert cluster["accessConfig"]["authenticationMode"] == "API"
    assert cluster["vpcConfig"]["endpointPrivateAccess"] is True


def test_prod_api_endpoint_is_private(prod_plan):
    vpc = prod_plan.one(CLUSTER).inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is False
    assert not vpc.get("publicAccessCidrs")


def test_every_endpoint_is_private_and_ci_runs_inside_the_vpc(plan):
    # Finding 1: CI on GitHub-hosted runners could not reach a private endpoint.
    vpc = plan.one(CLUSTER).inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is False
    project = plan.one("aws:codebuild/project:Project").inputs
    assert project["name"] == plan.outputs["ciRunnerProject"] == f"florai-{plan.stack}-gha-runner"
    assert set(project["vpcConfig"]["subnets"]) == set(plan.outputs["privateSubnetIds"])
    assert project["source"]["auth"]["type"] == "CODECONNECTIONS"
    (hook,) = plan.by_type("aws:codebuild/webhook:Webhook")
    assert hook.inputs["filterGroups"] == [{"filters": [{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"}]}]
    (rule,) = plan.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (443, 443)
    runner_group = next(
        g for g in plan.by_type("aws:ec2/securityGroup:SecurityGroup") if g.urn in rule.dependencies
    )
    assert runner_group.inputs["name"] == f"florai-{plan.stack}-ci-runner"


def _access(plan) -> dict[str, str]:
    """principal -> access policy name, from the access entries and their policy associations."""
    entries = {e.inputs["principalArn"] for e in plan.by_type("aws:eks/accessEntry:AccessEntry")}
    associations = plan.by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert {a.inputs["principalArn"] for a in associations} == entries
    assert all(a.inputs["accessScope"] == {"type": "cluster"} for a in associations)
    return {a.inputs["principalArn"]: a.inputs["policyArn"].rsplit("/", 1)[1] for a in associations}


def test_admins_and_the_deploy_role_are_cluster_admins_the_preview_role_only_views(plan):
    access = _access(plan)
    admins = load_stack_config(plan.stack)["florai:adminRoleArns"]
    ci = plan.outputs["ciRoleArns"]
    assert access == {
        **{arn: "AmazonEKSClusterAdminPolicy" for arn in admins},
        ci["pulumi-deploy"]: "AmazonEKSClusterAdminPolicy",
        ci["pulumi-preview"]: "AmazonEKSViewPolicy",
    }
    assert ci["pulumi-deploy"].endswith(f"role/florai-{plan.stack}-ci-pulumi-deploy")


def test_oidc_provider_trusts_the_cluster_issuer(plan):
    oidc = plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "cluster-oidc").inputs
    assert oidc["url"].startswith("https://oidc.eks.")
    assert oidc["clientIdLists"] == ["sts.amazonaws.com"]


def test_gpu_node_groups_are_tainted_labelled_nvidia_and_hardened(plan):
    config = load_stack_config(plan.stack)["florai:gpuNodeGroups"]
    gpu = [g for g in plan.by_type(NODE_GROUP) if g.inputs["nodeGroupName"] != "system"]
    assert sorted(g.inputs["nodeGroupName"] for g in gpu) == sorted(c["name"] for c in config)
    for group in gpu:
        cfg = next(c for c in config if c["name"] == group.inputs["nodeGroupName"])
        inputs = group.inputs
        assert inputs["amiType"] == "AL2023_x86_64_NVIDIA"
        assert inputs["instanceTypes"] and all(t.startswith(GPU_FAMILIES) for t in inputs["instanceTypes"])
        assert inputs["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
        assert inputs["labels"]["nvidia.com/gpu.present"] == "true"
        assert inputs["scalingConfig"] == {
            "minSize": cfg["minSize"],
            "maxSize": cfg["maxSize"],
            "desiredSize": cfg["desiredSize"],
        }


def test_every_node_group_uses_a_launch_template_with_imdsv2_and_encrypted_gp3(plan):
    groups = plan.by_type(NODE_GROUP)
    assert len(groups) == 1 + len(load_stack_config(plan.stack)["florai:gpuNodeGroups"])
    for group in groups:
        template = _template_of(plan, group).inputs
        assert group.inputs["launchTemplate"]["id"].startswith("lt-")
        metadata = template["metadataOptions"]
        assert metadata["httpTokens"] == "required"
        assert metadata["httpPutResponseHopLimit"] == 1  # pods cannot reach the node role's credentials
        (root,) = template["blockDeviceMappings"]
        assert root["ebs"]["volumeType"] == "gp3"
        assert root["ebs"]["encrypted"] == "true"
        assert root["ebs"]["kmsKeyId"].startswith("arn:aws:kms:")


def test_system_group_has_no_gpu_taint(plan):
    system = next(g for g in plan.by_type(NODE_GROUP) if g.inputs["nodeGroupName"] == "system")
    assert system.inputs["amiType"] == "AL2023_x86_64_STANDARD"
    assert not system.inputs.get("taints")


def test_node_role_has_worker_and_ecr_read_policies_not_the_cni_policy(plan):
    node_role = next(r for r in plan.by_type("aws:iam/role:Role") if r.inputs["name"].endswith("-nodes"))
    trust = json.loads(node_role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"]["Service"] == "ec2.amazonaws.com"
    attached = {
        a.inputs["policyArn"].rsplit("/", 1)[1]
        for a in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if node_role.urn in a.dependencies
    }
    assert attached == {"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"}


def test_managed_addons_are_pinned_from_the_table_with_irsa_roles(plan):
    version = load_stack_config(plan.stack)["florai:kubernetesVersion"]
    addons = {a.inputs["addonName"]: a.inputs for a in plan.by_type("aws:eks/addon:Addon")}
    assert {name: a["addonVersion"] for name, a in addons.items()} == upstream.addon_versions()[version]
    assert addons["aws-ebs-csi-driver"]["serviceAccountRoleArn"].endswith(f"florai-{plan.stack}-ebs-csi")
    assert addons["vpc-cni"]["serviceAccountRoleArn"].endswith(f"florai-{plan.stack}-vpc-cni")


def test_vpc_cni_enforces_network_policies(plan):
    cni = next(a for a in plan.by_type("aws:eks/addon:Addon") if a.inputs["addonName"] == "vpc-cni")
    assert json.loads(cni.inputs["configurationValues"])["enableNetworkPolicy"] == "true"


def test_nodes_run_the_pinned_ami_release_of_the_cluster_version(plan):
    version = load_stack_config(plan.stack)["florai:kubernetesVersion"]
    for group in plan.by_type(NODE_GROUP):
        assert group.inputs["version"] == version
        assert group.inputs["releaseVersion"] == upstream.ami_release_versions()[version]


def test_ci_runner_itself_holds_no_rights_of_the_pipeline(plan):
    role = next(
        r for r in plan.by_type("aws:iam/role:Role") if r.inputs["name"] == f"florai-{plan.stack}-gha-runner"
    )
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "codebuild.amazonaws.com"
    }
    policy = next(p for p in plan.by_type("aws:iam/rolePolicy:RolePolicy") if role.urn in p.dependencies)
    actions = {a for s in json.loads(policy.inputs["policy"])["Statement"] for a in _as_list(s["Action"])}
    assert {a.split(":")[0] for a in actions} == {"logs", "ec2", "codeconnections"}
    assert not any(
        a.startswith("ec2:") and not (a.startswith("ec2:Describe") or "NetworkInterface" in a)
        for a in actions
    )


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_public_allow_list_route_declares_no_runner_and_opens_only_the_listed_ranges():
    config = {
        **load_stack_config("dev"),
        "florai:ciRoute": "public-allow-list",
        "florai:endpointPublicAccess": True,
        "florai:publicAccessCidrs": ["140.82.112.0/20"],
    }
    plan = run_stack("dev", config=config)
    assert plan.by_type("aws:codebuild/project:Project") == []
    assert "ciRunnerProject" not in plan.outputs
    vpc = plan.one(CLUSTER).inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True and vpc["publicAccessCidrs"] == ["140.82.112.0/20"]
