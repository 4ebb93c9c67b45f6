"""Argo CD leaves the replica count of autoscaled workloads to KEDA (issue 16, finding 6)."""

from __future__ import annotations

import copy

import pytest

from florai_gitops import appsets, manifests

ENVS = manifests.ENVIRONMENTS


def ignored(app: dict, obj: dict) -> list[str]:
    group = obj["apiVersion"].rpartition("/")[0]
    return [
        pointer
        for rule in app["spec"].get("ignoreDifferences", [])
        if rule.get("group", "") == group and rule["kind"] == obj["kind"]
        for pointer in rule.get("jsonPointers", [])
    ]


def compared(obj: dict, pointers: list[str]) -> dict:
    """The object as Argo CD compares it: the ignored fields removed."""
    out = copy.deepcopy(obj)
    for pointer in pointers:
        *parents, leaf = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
        node = out
        for key in parents:
            node = node.get(key, {})
        node.pop(leaf, None)
    return out


@pytest.mark.parametrize("env", ENVS)
def test_a_keda_scale_up_is_neither_drift_nor_reverted(env):
    app = appsets.overlay_application(env)
    objects = manifests.rendered(env)
    targets = {
        (so["spec"]["scaleTargetRef"]["kind"], so["spec"]["scaleTargetRef"]["name"])
        for so in objects
        if so["kind"] == "ScaledObject"
    }
    workloads = [o for o in objects if (o["kind"], o["metadata"]["name"]) in targets]
    assert len(workloads) == len(targets) > 0
    for desired in workloads:
        live = copy.deepcopy(desired)
        live["spec"]["replicas"] = 7  # what the HPA set
        pointers = ignored(app, desired)
        assert compared(live, pointers) == compared(desired, pointers), desired["metadata"]["name"]
    # Sync keeps the ignored field's live value instead of applying git's.
    assert "RespectIgnoreDifferences=true" in app["spec"]["syncPolicy"]["syncOptions"]


@pytest.mark.parametrize("env", ENVS)
def test_nothing_else_is_ignored(env):
    app = appsets.overlay_application(env)
    for rule in app["spec"]["ignoreDifferences"]:
        assert rule["jsonPointers"] == ["/spec/replicas"] and set(rule) == {"group", "kind", "jsonPointers"}
