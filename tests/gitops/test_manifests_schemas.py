"""Every delivered object passes its schema: kubernetes-validate (strict) for built-in kinds, the packaged
upstream CRD schemas for Argo CD / Rollouts / prometheus-operator, field checks for the rest."""

from __future__ import annotations

import copy

import pytest

from florai_gitops import manifests, validate

DELIVERY = validate.delivery_objects()


@pytest.mark.parametrize("env", manifests.ENVIRONMENTS)
def test_rendered_environment_passes_every_schema(env):
    """Everything Argo CD syncs from apps/deploy into the environment: the API, the web UI, the cluster."""
    errors = validate.schema_errors(manifests.rendered_everything(env), validate.kubernetes_version(env))
    assert errors == []


@pytest.mark.parametrize("source", sorted(DELIVERY) or ["<none yet>"])
def test_argocd_alerts_and_dashboards_yaml_passes_every_schema(source):
    if source == "<none yet>":
        assert not any((validate.REPO_ROOT / d).rglob("*.yaml") for d in validate.DELIVERY_DIRS)
        return
    assert validate.schema_errors(DELIVERY[source], validate.kubernetes_version("prod")) == []


def test_kubernetes_version_comes_from_the_stack_config():
    for env in manifests.ENVIRONMENTS:
        assert validate.kubernetes_version(env).count(".") == 2


def test_strict_mode_rejects_an_unknown_field():
    (deployment, *_) = [o for o in manifests.rendered("dev") if o["kind"] == "Deployment"]
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    errors, custom = validate.builtin_schema_errors([broken], validate.kubernetes_version("dev"))
    assert len(errors) == 1 and "imagePullPolicyy" in errors[0] and custom == []


def test_packaged_crd_schema_rejects_a_malformed_rollout():
    (rollout, *_) = [o for o in manifests.rendered("prod") if o["kind"] == "Rollout"]
    broken = copy.deepcopy(rollout)
    broken["spec"]["strategy"]["canary"]["steps"][0]["setWeight"] = "ten"
    errors = validate.crd_schema_errors([rollout, broken])
    assert len(errors) == 1 and "setWeight" in errors[0]


def test_packaged_crd_schema_rejects_a_service_monitor_without_selector():
    (monitor, *_) = [o for o in manifests.rendered("prod") if o["kind"] == "ServiceMonitor"]
    broken = copy.deepcopy(monitor)
    del broken["spec"]["selector"]
    assert len(validate.crd_schema_errors([broken])) == 1


def test_field_checks_catch_what_matters_in_external_secrets_and_scaled_objects():
    rendered = manifests.rendered("prod")
    secret = copy.deepcopy(next(o for o in rendered if o["kind"] == "ExternalSecret"))
    secret["spec"]["data"][0]["remoteRef"]["key"] = "set-by-bridge"
    secret["spec"]["secretStoreRef"]["kind"] = "Vault"
    scaled = copy.deepcopy(next(o for o in rendered if o["kind"] == "ScaledObject"))
    scaled["spec"]["minReplicaCount"] = 9
    scaled["spec"]["triggers"][0]["metadata"]["threshold"] = "many"
    errors = validate.custom_resource_errors([secret, scaled])
    assert any("remoteRef.key" in e for e in errors) and any("secretStoreRef" in e for e in errors)
    assert any("min <= max" in e for e in errors) and any("threshold" in e for e in errors)


def test_an_unchecked_custom_resource_type_is_an_error():
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert validate.custom_resource_errors([unknown]) == [
        "Widget w: no schema or field check for example.com/v1/Widget"
    ]
