"""The controller add-ons the program's IAM roles serve: chart versions vendored with their source,
service accounts the IRSA trusts, versions that follow the cluster's. Every Helm value key is checked
against the vendored chart with the other add-ons' (tests/gitops/test_argocd_chart_values.py)."""

from __future__ import annotations

import pytest
import yaml

from florai_gitops import chart_values
from florai_infra import names, upstream
from florai_infra.offline.engine import REPO_ROOT, load_stack_config

ADDONS = REPO_ROOT / "argocd" / "addons"
# add-on file -> (service account the chart must create, path to its serviceAccount values)
CONTROLLERS = {
    "aws-load-balancer-controller": (names.LOAD_BALANCER_CONTROLLER, ("serviceAccount",)),
    "cluster-autoscaler": (names.CLUSTER_AUTOSCALER, ("rbac", "serviceAccount")),
    "external-dns": (names.EXTERNAL_DNS, ("serviceAccount",)),
}


def _source(addon: str) -> dict:
    appset = yaml.safe_load((ADDONS / f"{addon}.yaml").read_text())
    return appset["spec"]["template"]["spec"]["source"]


@pytest.mark.parametrize("addon", sorted(CONTROLLERS))
def test_chart_version_is_vendored_with_its_source(addon):
    source = _source(addon)
    meta = chart_values.source(addon, source["targetRevision"])
    assert (meta["chart"], str(meta["version"])) == (addon, source["targetRevision"])
    assert meta["helm_repository"] == source["repoURL"] and str(meta["retrieved"]) == "2026-12-02"


def test_an_unknown_key_is_caught():
    version = _source("external-dns")["targetRevision"]
    found = chart_values.unknown_keys(
        {"provider": {"name": "aws", "zone": "x"}, "env": []}, "external-dns", version
    )
    assert found == ["provider.zone"]
    assert (
        chart_values.unknown_keys({"serviceAccount": {"annotations": {"a": "b"}}}, "external-dns", version)
        == []
    )
    # Free-form where the chart passes a map through: the autoscaler's flags.
    version = _source("cluster-autoscaler")["targetRevision"]
    assert (
        chart_values.unknown_keys({"extraArgs": {"expander": "least-waste"}}, "cluster-autoscaler", version)
        == []
    )


@pytest.mark.parametrize("addon", sorted(CONTROLLERS))
def test_chart_creates_the_service_account_the_role_trusts(addon):
    account, path = CONTROLLERS[addon]
    appset = yaml.safe_load((ADDONS / f"{addon}.yaml").read_text())
    values = appset["spec"]["template"]["spec"]["source"]["helm"]["valuesObject"]
    for key in path:
        values = values[key]
    assert values["name"] == account.name
    assert appset["spec"]["template"]["spec"]["destination"]["namespace"] == account.namespace
    role = values["annotations"]["eks.amazonaws.com/role-arn"]
    assert role == "{{metadata.annotations." + names.role_arn_annotation(account) + "}}"


def test_cluster_autoscaler_matches_the_clusters_kubernetes_minor():
    # The autoscaler's minor version follows Kubernetes' (1.35.x for 1.35).
    version = _source("cluster-autoscaler")["targetRevision"]
    assert chart_values.source("cluster-autoscaler", version)["url"].endswith("/values.yaml")
    kubernetes = {load_stack_config(s)["florai:kubernetesVersion"] for s in ("dev", "staging", "prod")}
    image = upstream.chart_values("cluster-autoscaler", version)["image"]["tag"]
    assert {".".join(image.lstrip("v").split(".")[:2])} == kubernetes


def test_external_dns_is_scoped_to_the_stacks_zone_and_domain():
    values = _source("external-dns")["helm"]["valuesObject"]
    assert values["domainFilters"] == ["{{metadata.annotations." + names.BRIDGE_DOMAIN_NAME + "}}"]
    assert (
        "--zone-id-filter={{metadata.annotations." + names.BRIDGE_HOSTED_ZONE_ID + "}}" in values["extraArgs"]
    )
    assert values["registry"] == "txt" and values["txtOwnerId"]
