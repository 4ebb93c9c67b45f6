"""The controller add-ons the program's IAM roles serve: chart versions current, every Helm value
key one that chart version defines (tests/infra/chart_values.py), service accounts the IRSA trusts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from florai_infra import names, upstream
from florai_infra.offline.engine import REPO_ROOT, load_stack_config
from tests.infra.chart_values import unknown_value_keys

ADDONS = REPO_ROOT / "argocd" / "addons"
# add-on file -> (service account the chart must create, path to its serviceAccount values, free-form maps)
CONTROLLERS = {
    "aws-load-balancer-controller": (names.LOAD_BALANCER_CONTROLLER, ("serviceAccount",), frozenset()),
    "cluster-autoscaler": (names.CLUSTER_AUTOSCALER, ("rbac", "serviceAccount"), frozenset({"extraArgs"})),
    "external-dns": (names.EXTERNAL_DNS, ("serviceAccount",), frozenset()),
}


def _source(addon: str) -> dict:
    appset = yaml.safe_load((ADDONS / f"{addon}.yaml").read_text())
    return appset["spec"]["template"]["spec"]["source"]


def _vendored(addon: str, version: str) -> Path:
    return upstream.path("charts-controllers", f"{addon}-{version}")


@pytest.mark.parametrize("addon", sorted(CONTROLLERS))
def test_chart_version_is_vendored_with_its_source(addon):
    source = _source(addon)
    meta = yaml.safe_load((_vendored(addon, source["targetRevision"]) / "SOURCE.yaml").read_text())
    assert str(meta["version"]) == source["targetRevision"]
    assert source["repoURL"] in meta["chart"] and str(meta["retrieved"]) == "2026-12-02"


@pytest.mark.parametrize("addon", sorted(CONTROLLERS))
def test_every_values_key_exists_in_that_chart_version(addon):
    source = _source(addon)
    defaults = upstream.chart_values(addon, source["targetRevision"])
    free_form = CONTROLLERS[addon][2]
    assert unknown_value_keys(source["helm"]["valuesObject"], defaults, free_form) == []


def test_an_unknown_key_is_caught():
    defaults = upstream.chart_values("external-dns", "1.21.1")
    assert unknown_value_keys({"provider": {"name": "aws", "zone": "x"}, "env": []}, defaults) == [
        "provider.zone"
    ]
    assert unknown_value_keys({"serviceAccount": {"annotations": {"any": "thing"}}}, defaults) == []


@pytest.mark.parametrize("addon", sorted(CONTROLLERS))
def test_chart_creates_the_service_account_the_role_trusts(addon):
    account, path, _ = CONTROLLERS[addon]
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
    chart = yaml.safe_load((_vendored("cluster-autoscaler", version) / "SOURCE.yaml").read_text())
    assert chart["url"].endswith("/values.yaml")
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
