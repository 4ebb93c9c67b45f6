"""Replace vs update in a scratch copy of the dev stack: the committed plan against an edited config.

Each scenario edits a copy of Pulumi.dev.yaml, runs the real program offline and compares with the
committed platform/plans/dev.json, as `make preview` does.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from florai_infra.offline.engine import REPO_ROOT
from florai_infra.preview.cli import EXIT_GUARDED, main
from florai_infra.preview.diff import diff_plans
from florai_infra.preview.snapshots import read_snapshot
from florai_infra.replacements.classify import Kind, classify

RDS = "aws:rds/instance:Instance"
SUBNETS = [f"network-{tier}-us-east-1{az}" for tier in ("private", "public") for az in "abc"]
EVERY_STATEFUL = "database,cache,bucket,key,cluster,registry"


def dev_config() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())["config"]


def preview_dev(tmp_path: Path, config: dict[str, Any], allow: str = "") -> tuple[int, str]:
    scratch = tmp_path / "Pulumi.dev.yaml"
    scratch.write_text(yaml.safe_dump({"config": config}))
    out = io.StringIO()
    rc = main(["--stack", "dev", "--config", str(scratch), "--no-color", "--allow-replace", allow], out=out)
    return rc, out.getvalue()


def diff_section(text: str) -> str:
    return text[text.index("Diff against the committed plan") :]


@pytest.fixture(scope="module")
def cidr_change(tmp_path_factory) -> tuple[int, str]:
    config = dev_config()
    config["florai:vpcCidr"] = "10.20.0.0/16"
    return preview_dev(tmp_path_factory.mktemp("cidr"), config)


def test_vpc_cidr_change_replaces_the_vpc_and_its_subnets(cidr_change):
    rc, out = cidr_change
    diff = diff_section(out)
    assert re.search(
        r"^    \+- aws:ec2/vpc:Vpc network-vpc  \(replace\)\n        why: cidrBlock forces", diff, re.M
    )
    for subnet in SUBNETS:
        assert re.search(rf"^    \+- aws:ec2/subnet:Subnet {subnet}  \(replace\)$", diff, re.M), subnet
    assert "0 added, 0 removed" in diff
    assert rc == 0  # nothing stateful is replaced


def test_replacement_propagates_to_what_references_the_new_ids(cidr_change):
    diff = diff_section(cidr_change[1])
    assert re.search(
        r"RouteTableAssociation network-private-us-east-1a  \(replace\)\n.*subnetId references", diff
    )
    # a security group with a fixed name is deleted before its replacement is created
    assert "+- aws:ec2/securityGroup:SecurityGroup database  (delete-before-replace)" in diff
    # an input that is updatable in place just takes the new id
    assert re.search(
        r"^    ~ aws:rds/instance:Instance database\n        why: vpcSecurityGroupIds: new id", diff, re.M
    )


def test_instance_class_change_is_an_update_and_exits_zero(tmp_path):
    config = dev_config()
    config["florai:database"] = {**config["florai:database"], "instanceClass": "db.t4g.small"}
    rc, out = preview_dev(tmp_path, config)
    diff = diff_section(out).splitlines()
    assert diff[1:4] == [
        "    ~ aws:rds/instance:Instance database",
        '        instanceClass: "db.t4g.micro" -> "db.t4g.small"',
        "    0 added, 0 removed, 1 updated, 0 replaced",
    ]
    assert "Stateful resources" not in out
    assert rc == 0


@pytest.fixture(scope="module")
def region_move(tmp_path_factory) -> dict[str, tuple[int, str]]:
    config = dev_config()
    config["aws:region"] = "us-west-2"
    folder = tmp_path_factory.mktemp("region")
    return {allow: preview_dev(folder, config, allow) for allow in ("", "database", EVERY_STATEFUL)}


def test_region_move_names_the_database_replacement_and_exits_non_zero(region_move):
    rc, out = region_move[""]
    assert rc == EXIT_GUARDED
    assert re.search(
        r"\+- aws:rds/instance:Instance database  \(delete-before-replace\)\n.*region us-east-1 -> us-west-2",
        out,
    )
    guard = out[out.index("Stateful resources replaced or deleted:") :]
    database = "    replace database: aws:rds/instance:Instance database"
    assert f"{database} (NOT acknowledged: set ALLOW_REPLACE=database)" in guard
    assert "data would be lost: review, then rerun with ALLOW_REPLACE=" in guard


def test_acknowledging_by_name_clears_the_guard(region_move):
    rc, out = region_move["database"]
    assert "    replace database: aws:rds/instance:Instance database (acknowledged)" in out
    assert rc == EXIT_GUARDED  # the cluster, keys, cache, bucket and registry still block
    rc, out = region_move[EVERY_STATEFUL]
    assert rc == 0
    assert "NOT acknowledged" not in out


def test_master_username_replaces_the_database(dev_plan):
    committed = read_snapshot("dev")
    current = copy.deepcopy(committed)
    rds = current.one(RDS)
    edited = dataclasses.replace(rds, inputs={**rds.inputs, "username": "florai_owner"})
    current.resources = [edited if r.urn == rds.urn else r for r in current.resources]
    actions = classify(committed, current, diff_plans(committed, current))
    assert actions[rds.urn].kind is Kind.DELETE_BEFORE_REPLACE
    assert actions[rds.urn].causes == ["username forces replacement"]
