"""Bootstrap: Argo CD from its pinned chart, the root app-of-apps, the GitOps-bridge cluster Secret."""

from __future__ import annotations

import json

from florai_infra import names
from florai_infra.offline.engine import load_stack_config

SECRET = "kubernetes:core/v1:Secret"


def test_argocd_release_is_pinned_from_argo_helm(plan):
    release = plan.one("kubernetes:helm.sh/v3:Release").inputs
    assert release["chart"] == "argo-cd"
    assert release["repositoryOpts"]["repo"] == "https://argoproj.github.io/argo-helm"
    assert release["version"].startswith("7.7.")
    assert release["namespace"] == names.NAMESPACE_ARGOCD


def test_kubernetes_provider_uses_an_exec_token_kubeconfig(plan):
    provider = plan.one("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert plan.outputs["kubeconfig"] == "[secret]"
    release = plan.one("kubernetes:helm.sh/v3:Release")
    assert release.provider == provider.urn


def test_root_application_syncs_the_argocd_folder_of_this_repo(plan):
    app = plan.one("kubernetes:argoproj.io/v1alpha1:Application").inputs
    gitops = load_stack_config(plan.stack)["florai:gitops"]
    assert app["spec"]["source"]["path"] == "argocd"
    assert app["spec"]["source"]["repoURL"] == gitops["repoUrl"]
    assert app["spec"]["source"]["targetRevision"] == gitops["targetRevision"]
    assert app["metadata"]["namespace"] == "argocd"


def test_cluster_secret_carries_the_stack_outputs(plan):
    secret = plan.one(SECRET).inputs
    labels = secret["metadata"]["labels"]
    annotations = secret["metadata"]["annotations"]
    assert labels["argocd.argoproj.io/secret-type"] == "cluster"
    assert labels["environment"] == plan.stack
    assert labels["enable_gpu"] == "true"
    assert annotations["waf_acl_arn"] == plan.outputs["wafAclArn"]
    assert annotations["aws_cluster_name"] == plan.outputs["clusterName"]
    assert annotations["aws_vpc_id"] == plan.outputs["vpcId"]
    assert annotations["database_endpoint"] == plan.outputs["databaseEndpoint"]
    assert annotations["database_secret_arn"] == plan.outputs["databaseSecretArn"]
    assert annotations["redis_endpoint"] == plan.outputs["redisEndpoint"]
    assert annotations["redis_auth_secret_arn"] == plan.outputs["redisAuthSecretArn"]
    assert annotations["model_bucket_name"] == plan.outputs["modelBucketName"]
    assert annotations["ecr_repository_url"] == plan.outputs["ecrRepositoryUrl"]
    for account in names.IRSA_SERVICE_ACCOUNTS:
        key = f"{account.key.replace('-', '_')}_role_arn"
        assert annotations[key] == plan.outputs["roleArns"][account.key]


def test_cluster_secret_labels_are_valid_label_values(plan):
    labels = plan.one(SECRET).inputs["metadata"]["labels"]
    for value in labels.values():
        assert len(value) <= 63 and all(c.isalnum() or c in "-_." for c in value)


def test_kubeconfig_builder_uses_aws_eks_get_token():
    from florai_infra.components.cluster import kubeconfig

    config = json.loads(kubeconfig("c", "https://x", "Q0E=", "us-east-1"))
    exec_ = config["users"][0]["user"]["exec"]
    assert exec_["command"] == "aws"
    assert exec_["args"][:2] == ["eks", "get-token"]
    assert "token" not in config["users"][0]["user"]
