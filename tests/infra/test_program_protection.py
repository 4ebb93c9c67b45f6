"""Stateful resources carry `protect` (and `retainOnDelete` where data lives) outside dev.

The offline plan records inputs only, so this test records the resource options the program
sends to the engine and runs the same stack policy CrossGuard runs in `pulumi preview`.
"""

from __future__ import annotations

import pytest

from florai_infra.offline import engine
from florai_infra.policies import StackResource
from florai_infra.policies.protection import HOLDS_DATA, STATEFUL, _protected


def _options_of_a_run(stack: str, monkeypatch) -> tuple[dict[str, tuple[bool, bool]], list]:
    options: dict[str, tuple[bool, bool]] = {}

    class RecordingOptions(engine.RecordingMonitor):
        def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
            response = super().RegisterResource(request)
            options[response.urn] = (bool(request.protect), bool(request.retainOnDelete))
            return response

    monkeypatch.setattr(engine, "RecordingMonitor", RecordingOptions)
    plan = engine.run_stack(stack)
    return options, plan.custom_resources


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_stateful_resources_are_protected_and_data_retained(stack, monkeypatch):
    options, resources = _options_of_a_run(stack, monkeypatch)
    stateful = [r for r in resources if r.type in STATEFUL]
    assert {r.type for r in stateful} >= {
        "aws:rds/instance:Instance",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:s3/bucket:Bucket",
        "aws:kms/key:Key",
        "aws:eks/cluster:Cluster",
        "aws:ecr/repository:Repository",
    }
    for r in stateful:
        protect, retain = options[r.urn]
        assert protect, r.urn
        assert retain == (r.type in HOLDS_DATA), r.urn
    # The stack policy agrees once it sees the options.
    found: list = []
    as_seen = [
        StackResource(r.type, r.name, r.urn, r.inputs, r.dependencies, *options[r.urn]) for r in resources
    ]
    _protected(as_seen, lambda message, urn=None: found.append(message))
    assert found == []


def test_dev_can_be_torn_down(monkeypatch):
    options, resources = _options_of_a_run("dev", monkeypatch)
    assert not any(options[r.urn][0] for r in resources)
