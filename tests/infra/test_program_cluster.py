"""EKS: pinned version, private API, logs, envelope encryption, access entries, node groups, add-ons."""

from __future__ import annotations

import json

import pytest

from florai_infra.offline.engine import load_stack_config

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


@pytest.mark.parametrize("stack_name", ["dev", "staging"])
def test_public_endpoint_is_limited_to_configured_cidrs(stack_name, dev_plan, staging_plan):
    plan = {"dev": dev_plan, "staging": staging_plan}[stack_name]
    vpc = plan.one(CLUSTER).inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == load_stack_config(stack_name)["florai:publicAccessCidrs"]
    assert "0.0.0.0/0" not in vpc["publicAccessCidrs"]


def test_admin_roles_get_access_entries_with_cluster_admin(plan):
    admins = load_stack_config(plan.stack)["florai:adminRoleArns"]
    entries = {e.inputs["principalArn"] for e in plan.by_type("aws:eks/accessEntry:AccessEntry")}
    assert entries == set(admins)
    associations = plan.by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert {a.inputs["principalArn"] for a in associations} == set(admins)
    assert all(a.inputs["policyArn"].endswith("/AmazonEKSClusterAdminPolicy") for a in associations)


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
        assert metadata["httpPutResponseHopLimit"] == 2
        (root,) = template["blockDeviceMappings"]
        assert root["ebs"]["volumeType"] == "gp3"
        assert root["ebs"]["encrypted"] == "true"
        assert root["ebs"]["kmsKeyId"].startswith("arn:aws:kms:")


def test_system_group_has_no_gpu_taint(plan):
    system = next(g for g in plan.by_type(NODE_GROUP) if g.inputs["nodeGroupName"] == "system")
    assert system.inputs["amiType"] == "AL2023_x86_64_STANDARD"
    assert not system.inputs.get("taints")


def test_node_role_has_worker_cni_and_ecr_read_policies(plan):
    node_role = next(r for r in plan.by_type("aws:iam/role:Role") if r.inputs["name"].endswith("-nodes"))
    trust = json.loads(node_role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"]["Service"] == "ec2.amazonaws.com"
    attached = {
        a.inputs["policyArn"].rsplit("/", 1)[1]
        for a in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if node_role.urn in a.dependencies
    }
    assert attached == {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryReadOnly",
    }


def test_managed_addons_with_ebs_csi_irsa_role(plan):
    addons = {a.inputs["addonName"]: a.inputs for a in plan.by_type("aws:eks/addon:Addon")}
    assert set(addons) == {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"}
    assert addons["aws-ebs-csi-driver"]["serviceAccountRoleArn"].endswith(f"florai-{plan.stack}-ebs-csi")
    assert all(a["addonVersion"] for a in addons.values())
