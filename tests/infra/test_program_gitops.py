"""Bootstrap: Argo CD from its pinned chart, the root app-of-apps, the GitOps-bridge cluster Secret."""

from __future__ import annotations

import json

from florai_gitops import chart_values
from florai_infra import names
from florai_infra.config import GitOpsSettings
from florai_infra.offline.engine import load_stack_config, run_stack

SECRET = "kubernetes:core/v1:Secret"


def test_argocd_release_is_pinned_from_argo_helm(plan):
    release = plan.one("kubernetes:helm.sh/v3:Release").inputs
    assert release["chart"] == "argo-cd"
    assert release["repositoryOpts"]["repo"] == "https://argoproj.github.io/argo-helm"
    assert release["version"] == GitOpsSettings().argocd_chart_version
    assert release["namespace"] == names.NAMESPACE_ARGOCD
    source = chart_values.source("argo-cd", release["version"])
    assert source["version"] == release["version"] and source["url"].endswith("charts/argo-cd/values.yaml")
    assert source["helm_repository"] == release["repositoryOpts"]["repo"]
    assert int(str(source["version"]).split(".")[0]) >= 9  # Argo CD 3.x (chart 9+), not the 2.x line


def test_argocd_values_exist_in_that_chart_version(plan):
    release = plan.one("kubernetes:helm.sh/v3:Release").inputs
    # configs.cm is argocd-cm's data: any key Argo CD reads is allowed there (chart_values.FREE_FORM).
    assert chart_values.unknown_keys(release["values"], "argo-cd", release["version"]) == []


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
    assert annotations[names.BRIDGE_HOSTED_ZONE_ID] == plan.outputs["hostedZoneId"]
    assert annotations[names.BRIDGE_API_HOSTNAME] == plan.outputs["apiHostname"]
    assert annotations[names.BRIDGE_DOMAIN_NAME] == plan.outputs["apiHostname"].removeprefix("api.")
    assert annotations[names.BRIDGE_CERTIFICATE_ARN] == plan.outputs["certificateArn"]
    assert annotations[names.BRIDGE_LOG_GROUP_NAME] == plan.outputs["containerLogGroup"]
    assert annotations[names.BRIDGE_VPC_CIDR] == load_stack_config(plan.stack)["florai:vpcCidr"]
    retention = load_stack_config(plan.stack).get("florai:imageRetentionDays", 365)
    assert annotations[names.BRIDGE_IMAGE_RETENTION_DAYS] == str(retention)
    for account in names.IRSA_SERVICE_ACCOUNTS:
        assert annotations[names.role_arn_annotation(account)] == plan.outputs["roleArns"][account.key]


def test_cluster_secret_writes_every_bridge_annotation(plan):
    annotations = plan.one(SECRET).inputs["metadata"]["annotations"]
    bridge = {getattr(names, n) for n in dir(names) if n.startswith("BRIDGE_")}
    roles = {names.role_arn_annotation(a) for a in names.IRSA_SERVICE_ACCOUNTS}
    assert set(annotations) == bridge | roles


def test_cluster_secret_enables_the_day_one_addons(plan):
    labels = plan.one(SECRET).inputs["metadata"]["labels"]
    for addon in ("external_dns", "cloudwatch_exporter", "otel_collector", "tempo", "fluent_bit"):
        assert labels[f"enable_{addon}"] == "true"


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


def test_first_apply_from_outside_the_vpc_can_leave_the_bootstrap_out():
    # README, Running for real: an account's first `pulumi up` runs with florai:gitops.bootstrap false.
    config = load_stack_config("dev")
    config = {**config, "florai:gitops": {**config["florai:gitops"], "bootstrap": False}}
    plan = run_stack("dev", config=config)
    assert not [r for r in plan.resources if r.type.startswith("kubernetes:")]
    assert plan.by_type("aws:eks/cluster:Cluster") and plan.by_type("aws:codebuild/project:Project")
