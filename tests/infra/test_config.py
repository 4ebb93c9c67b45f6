"""The stack config: one validated settings object; every bad value fails before any resource."""

from __future__ import annotations

import copy

import pytest

from florai_infra.config import ConfigError, plan_subnets, settings_from_mapping
from florai_infra.offline import engine
from florai_infra.offline.engine import load_stack_config, run_stack


def _set(config: dict, path: str, value) -> dict:
    """Copy of ``config`` with ``path`` (``key`` or ``key.sub`` or ``key[0].sub``) replaced."""
    out = copy.deepcopy(config)
    head, _, rest = path.partition(".")
    index = None
    if "[" in head:
        head, index = head.rstrip("]").split("[")
    key = f"florai:{head}"
    if not rest and index is None:
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
        return out
    target = out[key][int(index)] if index is not None else out.setdefault(key, {})
    target[rest] = value
    return out


@pytest.fixture
def recorded_monitors(monkeypatch) -> list:
    """Every monitor a run creates, so a failed run can be checked for declared resources."""
    monitors: list = []

    class Watching(engine.RecordingMonitor):
        def __init__(self, mocks):
            super().__init__(mocks)
            monitors.append(self)

    monkeypatch.setattr(engine, "RecordingMonitor", Watching)
    return monitors


BAD_VALUES = [
    ("dev", "gpuNodeGroups[0].instanceTypes", ["p4d.24xlarge"], "florai:gpuNodeGroups[0].instanceTypes[0]"),
    ("dev", "gpuNodeGroups[0].instanceTypes", ["m6i.xlarge"], "florai:gpuNodeGroups[0].instanceTypes[0]"),
    ("prod", "gpuNodeGroups[1].minSize", 9, "florai:gpuNodeGroups[1].maxSize"),
    ("dev", "gpuNodeGroups[0].desiredSize", 3, "florai:gpuNodeGroups[0].desiredSize"),
    ("staging", "systemNodeGroup.desiredSize", 1, "florai:systemNodeGroup.desiredSize"),
    ("dev", "vpcCidr", "10.10.0.0/33", "florai:vpcCidr"),
    ("dev", "vpcCidr", "10.10.0.1/16", "florai:vpcCidr"),
    ("dev", "vpcCidr", "10.10.0.0/22", "florai:vpcCidr"),  # three /19 private subnets do not fit
    ("prod", "database.multiAz", False, "florai:database.multiAz"),
    ("staging", "database.deletionProtection", False, "florai:database.deletionProtection"),
    ("dev", "database.backupRetentionDays", 3, "florai:database.backupRetentionDays"),
    ("dev", "kubernetesVersion", "v1.31", "florai:kubernetesVersion"),
    ("dev", "kubernetesVersion", "1.31.2", "florai:kubernetesVersion"),
    ("prod", "endpointPublicAccess", True, "florai:endpointPublicAccess"),
    ("staging", "publicAccessCidrs", ["0.0.0.0/0"], "florai:publicAccessCidrs"),
    ("dev", "publicAccessCidrs", [], "florai:publicAccessCidrs"),
    ("prod", "natPerAz", False, "florai:natPerAz"),
    ("prod", "cache.replicas", 0, "florai:cache.replicas"),
    ("dev", "owner", None, "florai:owner"),
    ("dev", "adminRoleArns", ["arn:aws:iam::12:user/bob"], "florai:adminRoleArns[0]"),
    ("dev", "logRetentionDays", 42, "florai:logRetentionDays"),
    ("dev", "vpcCidrr", "10.0.0.0/16", "florai:vpcCidrr"),  # a misspelt key is not ignored
    ("dev", "database.backupRetentionDay", 9, "florai:database.backupRetentionDay"),
]


@pytest.mark.parametrize(("stack", "path", "value", "key"), BAD_VALUES)
def test_bad_value_fails_naming_key_and_stack_before_any_resource(stack, path, value, key, recorded_monitors):
    config = _set(load_stack_config(stack), path, value)
    with pytest.raises(ConfigError) as err:
        run_stack(stack, config=config)
    assert f"{key}:" in str(err.value)
    assert f"stack {stack!r}" in str(err.value)
    assert err.value.stack == stack
    assert [m.recorded for m in recorded_monitors] == [{}]


def test_unknown_stack_name_is_rejected(recorded_monitors):
    with pytest.raises(ConfigError, match="stack 'qa' is unknown"):
        run_stack("qa", config=load_stack_config("dev"))
    assert [m.recorded for m in recorded_monitors] == [{}]


def test_all_problems_are_collected_in_one_error():
    config = _set(load_stack_config("prod"), "database.backupRetentionDays", 1)
    config = _set(config, "gpuNodeGroups[0].maxSize", 0)
    config = _set(config, "costCentre", None)
    with pytest.raises(ConfigError) as err:
        run_stack("prod", config=config)
    keys = {p.split(":")[1].split(" ")[0] for p in err.value.problems}
    assert {"database.backupRetentionDays", "gpuNodeGroups[0].maxSize", "costCentre"} <= keys
    assert len(err.value.problems) >= 3


def test_defaults_come_from_the_settings_model():
    minimal = {
        "owner": "team",
        "costCentre": "cc",
        "drRegion": "eu-central-1",  # no default: prod must name its secondary region
        "gpuNodeGroups": [
            {"name": "gpu", "instanceTypes": ["g6e.2xlarge"], "minSize": 0, "maxSize": 1, "desiredSize": 0}
        ],
    }
    settings = settings_from_mapping("prod", minimal, "eu-west-1")
    assert settings.network.nat_per_az and settings.network.az_count == 3
    assert settings.database.multi_az and settings.database.deletion_protection
    assert settings.database.backup_retention_days >= 7
    assert not settings.cluster.endpoint_public_access
    assert settings.cache.replicas >= 1
    assert settings.database.parameter_family == "postgres16"


def test_settings_are_frozen():
    settings = settings_from_mapping(
        "dev",
        {
            k.removeprefix("florai:"): v
            for k, v in load_stack_config("dev").items()
            if k.startswith("florai:")
        },
        "us-east-1",
    )
    with pytest.raises(AttributeError):
        settings.waf_rate_limit = 1  # type: ignore[misc]


def test_subnets_are_aligned_disjoint_and_inside_the_vpc():
    private, public = plan_subnets("10.0.0.0/16", 3, 19, 24)
    assert private == ("10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19")
    assert public == ("10.0.96.0/24", "10.0.97.0/24", "10.0.98.0/24")
    with pytest.raises(ValueError, match="do not fit"):
        plan_subnets("10.0.0.0/21", 3, 22, 24)
