"""The stack config: one validated settings object; every bad value fails before any resource."""

from __future__ import annotations

import copy

import pytest
import yaml
from pydantic import ValidationError

from florai_infra import upstream
from florai_infra.config import ConfigError, plan_subnets, settings_from_mapping
from florai_infra.offline import engine
from florai_infra.offline.calls import UnansweredCallError, answer_call
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
    ("dev", "publicAccessCidrs", ["203.0.113.0/24"], "florai:publicAccessCidrs[0]"),  # a placeholder range
    ("dev", "ciRoute", "github-hosted", "florai:ciRoute"),
    ("dev", "kubernetesVersion", "1.31", "florai:addonVersions"),  # no add-on pins for it
    ("dev", "dns.hostedZoneId", "example.com", "florai:dns.hostedZoneId"),
    ("dev", "imageRetentionDays", 0, "florai:imageRetentionDays"),
    ("dev", "database.engineVersion", "16.4", "florai:database.engineVersion"),  # a minor pin
    ("prod", "adminRoleArns", ["arn:aws:iam::999999999999:role/admin"], "florai:adminRoleArns[0]"),
    ("staging", "github", {"repository": "florai/florai"}, "florai:github.imageSourceAccountId"),
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
        "dns": {"hostedZoneId": "Z0123456789ABC", "domainName": "florai.example.org"},
        "github": {"imageSourceAccountId": "210987654321"},
        "drRegion": "eu-central-1",  # no default: prod must name its secondary region
        "gpuNodeGroups": [
            {"name": "gpu", "instanceTypes": ["g6e.2xlarge"], "minSize": 0, "maxSize": 1, "desiredSize": 0}
        ],
    }
    settings = settings_from_mapping("prod", minimal, "eu-west-1", ["123456789012"])
    assert settings.network.nat_per_az and settings.network.az_count == 3
    assert settings.database.multi_az and settings.database.deletion_protection
    assert settings.database.backup_retention_days >= 7
    assert not settings.cluster.endpoint_public_access
    assert settings.cache.replicas >= 1
    assert settings.database.parameter_family == "postgres17"
    assert settings.cluster.kubernetes_version == "1.35" and settings.image_retention_days == 365
    assert settings.dns.api_hostname == "api.florai.example.org"


def test_settings_are_frozen():
    settings = settings_from_mapping(
        "dev",
        {
            k.removeprefix("florai:"): v
            for k, v in load_stack_config("dev").items()
            if k.startswith("florai:")
        },
        "us-east-1",
        load_stack_config("dev")["aws:allowedAccountIds"],
    )
    with pytest.raises(ValidationError, match="frozen"):
        settings.waf_rate_limit = 1  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        settings.cluster.kubernetes_version = "1.36"  # type: ignore[misc]


def test_subnets_are_aligned_disjoint_and_inside_the_vpc():
    private, public = plan_subnets("10.0.0.0/16", 3, 19, 24)
    assert private == ("10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19")
    assert public == ("10.0.96.0/24", "10.0.97.0/24", "10.0.98.0/24")
    with pytest.raises(ValueError, match="do not fit"):
        plan_subnets("10.0.0.0/21", 3, 22, 24)


# Issue 20 item 4: errors a user meets are one line naming what to fix, before any slow work.


def test_unquoted_kubernetes_version_says_to_quote_it(recorded_monitors):
    config = {**load_stack_config("dev"), "florai:kubernetesVersion": 1.30}  # YAML reads 1.30 as 1.3
    with pytest.raises(ConfigError) as err:
        run_stack("dev", config=config)
    (problem,) = err.value.problems
    assert (
        problem
        == "florai:kubernetesVersion: '1.3' is 1.30 read as a number: quote it, kubernetesVersion: \"1.30\""
    )
    assert [m.recorded for m in recorded_monitors] == [{}]


def test_region_that_does_not_exist_fails_before_any_zone_is_invented(recorded_monitors):
    config = {**load_stack_config("dev"), "aws:region": "us-east-7"}
    with pytest.raises(ConfigError) as err:
        run_stack("dev", config=config)
    assert err.value.problems == [
        "aws:region: 'us-east-7' is not an AWS region (platform/upstream/regions/partitions.json)"
    ]
    assert [m.recorded for m in recorded_monitors] == [{}]
    with pytest.raises(UnansweredCallError, match="us-east-7"):
        answer_call(
            "aws:index/getAvailabilityZones:getAvailabilityZones", {}, region="us-east-7", account_id="1"
        )


def test_the_region_list_is_botocores(tmp_path):
    regions = upstream.aws_regions()
    assert {"us-east-1", "eu-west-1", "ap-southeast-7", "us-gov-west-1", "cn-north-1"} <= set(regions)
    assert not any(r.endswith("-global") for r in regions)
    source = yaml.safe_load(upstream.path("regions", "SOURCE.yaml").read_text())
    assert source["url"].startswith("https://github.com/boto/botocore/") and source["retrieved"]


def test_yaml_syntax_error_names_the_file_and_line(tmp_path, monkeypatch):
    broken = tmp_path / "Pulumi.dev.yaml"
    broken.write_text(
        "config:\n  aws:region: us-east-1\n  florai:owner: [platform\n  florai:costCentre: cc\n"
    )
    monkeypatch.setattr(engine, "stack_config_path", lambda stack: broken)
    with pytest.raises(ConfigError) as err:
        load_stack_config("dev")
    (problem,) = err.value.problems
    assert problem.startswith("Pulumi.dev.yaml, line 4: ") and problem.endswith("fix the YAML syntax there")
    assert "\n" not in problem


def test_an_account_per_stack_is_required():
    values = {
        k.removeprefix("florai:"): v for k, v in load_stack_config("dev").items() if k.startswith("florai:")
    }
    for ids in (None, [], ["123"], ["111111111111", "222222222222"]):
        with pytest.raises(ConfigError, match="aws:allowedAccountIds: name exactly the one 12-digit"):
            settings_from_mapping("dev", values, "us-east-1", ids)
