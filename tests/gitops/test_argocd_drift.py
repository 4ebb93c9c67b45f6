"""Fields the cluster writes itself are not drift (issue 16, finding 6): the caBundle that add-ons
with webhooks inject (cert rotation in the cluster) is ignored and kept on sync."""

from __future__ import annotations

import pytest

from florai_gitops import appsets

# Add-on -> (group, kind, jq path) of every caBundle its controller injects in the cluster.
INJECTED = {
    "kube-prometheus-stack": {
        (
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration",
            ".webhooks[]?.clientConfig.caBundle",
        ),
        (
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration",
            ".webhooks[]?.clientConfig.caBundle",
        ),
    },
    "external-secrets": {
        (
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration",
            ".webhooks[]?.clientConfig.caBundle",
        ),
        (
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            ".spec.conversion.webhook.clientConfig.caBundle",
        ),
    },
    "keda": {
        (
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration",
            ".webhooks[]?.clientConfig.caBundle",
        ),
        ("apiregistration.k8s.io", "APIService", ".spec.caBundle"),
    },
}


@pytest.mark.parametrize("addon", sorted(INJECTED))
def test_injected_ca_bundles_are_ignored_and_kept(addon):
    (app,) = [
        a
        for a in appsets.stack_applications("prod", cluster=appsets.contract_cluster("prod"))
        if a["metadata"]["name"] == f"{addon}-prod"
    ]
    ignored = {
        (rule["group"], rule["kind"], path)
        for rule in app["spec"].get("ignoreDifferences", [])
        for path in rule.get("jqPathExpressions", [])
    }
    assert INJECTED[addon] <= ignored
    assert all(path.endswith("caBundle") for _, _, path in ignored), "only the injected field"
    assert "RespectIgnoreDifferences=true" in app["spec"]["syncPolicy"]["syncOptions"]


def test_the_load_balancer_controllers_generated_webhook_certificate_is_written_once_and_kept():
    """The chart (no cert-manager) makes a new CA + certificate per render: Secret and caBundles are kept."""
    (app,) = [
        a
        for a in appsets.stack_applications("prod", cluster=appsets.contract_cluster("prod"))
        if a["metadata"]["name"] == "aws-load-balancer-controller-prod"
    ]
    assert not app["spec"]["source"]["helm"]["valuesObject"].get("enableCertManager", False)
    rules = {(r["group"], r["kind"], r.get("name")): r for r in app["spec"]["ignoreDifferences"]}
    secret = rules[("", "Secret", "aws-load-balancer-tls")]
    assert secret["jsonPointers"] == ["/data"]
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        webhook = rules[("admissionregistration.k8s.io", kind, "aws-load-balancer-webhook")]
        assert webhook["jqPathExpressions"] == [".webhooks[]?.clientConfig.caBundle"]
    assert "RespectIgnoreDifferences=true" in app["spec"]["syncPolicy"]["syncOptions"]
