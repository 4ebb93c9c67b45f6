"""Prometheus keeps its data across restarts on gp3, retention sized per environment (issue 16, finding 5)."""

from __future__ import annotations

import re

import pytest

from florai_alerts.burn_rate import RATIO_WINDOWS
from florai_alerts.slo import load_slos
from florai_gitops import appsets, manifests

STACKS = ("dev", "staging", "prod")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
BYTES = {"Gi": 2**30, "GB": 10**9, "Ti": 2**40, "TB": 10**12}


def seconds(duration: str) -> int:
    return sum(int(n) * UNITS[u] for n, u in re.findall(r"(\d+)([smhdwy])", duration))


def size(quantity: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([A-Za-z]+)", quantity).groups()
    return int(number) * BYTES[unit]


def app(stack: str, name: str) -> dict:
    (found,) = [a for a in appsets.stack_applications(stack) if a["metadata"]["name"] == f"{name}-{stack}"]
    return found


def storage_classes() -> dict[str, dict]:
    path = app("prod", "prometheus-storage")["spec"]["source"]["path"]
    objects = manifests.kustomize(appsets.REPO_ROOT / path)
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == "StorageClass"}


@pytest.mark.parametrize("stack", STACKS)
def test_prometheus_and_alertmanager_claim_gp3_volumes(stack):
    values = app(stack, "kube-prometheus-stack")["spec"]["source"]["helm"]["valuesObject"]
    classes = storage_classes()
    for spec in (
        values["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"],
        values["alertmanager"]["alertmanagerSpec"]["storage"]["volumeClaimTemplate"]["spec"],
    ):
        storage_class = classes[spec["storageClassName"]]
        assert storage_class["provisioner"] == "ebs.csi.aws.com"
        assert (
            storage_class["parameters"]["type"] == "gp3"
            and storage_class["parameters"]["encrypted"] == "true"
        )
        assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"


@pytest.mark.parametrize("stack", STACKS)
def test_retention_fits_the_volume_and_the_rules(stack):
    spec = app(stack, "kube-prometheus-stack")["spec"]["source"]["helm"]["valuesObject"]["prometheus"][
        "prometheusSpec"
    ]
    assert appsets.placeholders(spec) == set()
    volume = size(spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"])
    # Size-based retention cuts in before the volume fills (the WAL and compaction need headroom).
    assert size(spec["retentionSize"]) <= 0.9 * volume
    longest_rule_window = max(seconds(w) for w in RATIO_WINDOWS)
    assert seconds(spec["retention"]) >= longest_rule_window
    if stack == "prod":
        # A whole SLO window of history in prod, for the budget panels and postmortems.
        assert seconds(spec["retention"]) >= max(seconds(s.window) for s in load_slos())


def test_each_environment_gets_its_own_size():
    sizes = [
        app(s, "kube-prometheus-stack")["spec"]["source"]["helm"]["valuesObject"]["prometheus"][
            "prometheusSpec"
        ]["retention"]
        for s in STACKS
    ]
    assert [seconds(x) for x in sizes] == sorted(seconds(x) for x in sizes) and len(set(sizes)) == len(STACKS)
