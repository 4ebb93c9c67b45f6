"""The diff against the committed plan: added, removed and changed resources with changed input paths."""

from __future__ import annotations

import copy
import dataclasses
import io
from pathlib import Path

import pytest

from florai_infra.offline.engine import run_stack
from florai_infra.offline.plan import Plan, PlannedResource
from florai_infra.preview.cli import EXIT_GUARDED, offline_preview
from florai_infra.preview.diff import MISSING, diff_plans, render_diff
from florai_infra.preview.snapshots import write_snapshot
from florai_infra.preview.style import Style

SMALL_STACK = Path(__file__).parent / "programs" / "small_stack.py"
CONFIG = {"aws:region": "eu-west-1", "florai:environment": "prod", "florai:dbPassword": {"secure": "v1:x"}}
RDS = "aws:rds/instance:Instance"
KMS = "aws:kms/key:Key"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_stack("prod", config=CONFIG, program=SMALL_STACK)


def edited(plan: Plan) -> Plan:
    """The committed plan as it was before a change: one resource fewer, one more, one different."""
    old = copy.deepcopy(plan)
    old.resources = [r for r in old.resources if r.type != KMS]  # the change adds the key
    rds = old.one(RDS)
    inputs = {**rds.inputs, "instanceClass": "db.t4g.small", "tags": {**rds.inputs["tags"], "owner": "dba"}}
    del inputs["multiAz"]
    old.resources = [r for r in old.resources if r.urn != rds.urn]
    old.resources.append(dataclasses.replace(rds, inputs=inputs))
    gone = PlannedResource(
        urn=rds.urn.replace("db-postgres", "db-replica"),
        type=RDS,
        name="db-replica",
        parent=rds.parent,
        custom=True,
        dependencies=(),
        inputs={"instanceClass": "db.t4g.small"},
    )
    old.resources.append(gone)  # the change removes the replica
    return old


def test_diff_finds_added_removed_and_changed(plan):
    diff = diff_plans(edited(plan), plan)
    assert [r.name for r in diff.added] == ["platform-key"]
    assert [r.name for r in diff.removed] == ["db-replica"]
    [(resource, changes)] = diff.changed
    assert resource.name == "db-postgres"
    assert [(c.path, c.old, c.new) for c in changes] == [
        ("instanceClass", "db.t4g.small", "db.t4g.medium"),
        ("multiAz", MISSING, True),
        ("tags.owner", "dba", "platform"),
    ]


def test_diff_rendering(plan):
    lines = render_diff(diff_plans(edited(plan), plan), Style())
    assert lines == [
        "    + aws:kms/key:Key platform-key",
        "    - aws:rds/instance:Instance db-replica",
        "    ~ aws:rds/instance:Instance db-postgres",
        '        instanceClass: "db.t4g.small" -> "db.t4g.medium"',
        "        multiAz: (absent) -> true",
        '        tags.owner: "dba" -> "platform"',
        "    1 added, 1 removed, 1 updated, 0 replaced",
    ]


def test_list_items_are_diffed_by_index(plan):
    old = copy.deepcopy(plan)
    group = old.one("aws:eks/nodeGroup:NodeGroup")
    inputs = {**group.inputs, "instanceTypes": ["g5.xlarge", "g5.2xlarge"]}
    old.resources = [dataclasses.replace(r, inputs=inputs) if r is group else r for r in old.resources]
    [(_, changes)] = diff_plans(old, plan).changed
    assert [(c.path, c.old, c.new) for c in changes] == [("instanceTypes[1]", "g5.2xlarge", MISSING)]


def test_identical_plans_have_no_changes(plan):
    assert diff_plans(plan, Plan.loads(plan.dumps())).empty
    assert render_diff(diff_plans(plan, plan), Style()) == ["    no changes against the committed plan"]


def test_preview_prints_the_diff_against_the_snapshot(plan, tmp_path):
    write_snapshot(edited(plan), tmp_path)
    out = io.StringIO()
    rc = offline_preview(
        "prod", out, config=CONFIG, program=SMALL_STACK, plans_dir=tmp_path, allow_replace=""
    )
    assert rc == EXIT_GUARDED  # the change deletes a database
    text = out.getvalue()
    section = text[text.index("Diff against the committed plan") :].splitlines()
    assert section[0] == f"Diff against the committed plan {tmp_path / 'prod.json'}:"
    assert section[1:8] == render_diff(diff_plans(edited(plan), plan), Style())
    assert section[9:11] == [
        "Stateful resources replaced or deleted:",
        "    delete database: aws:rds/instance:Instance db-replica"
        " (NOT acknowledged: set ALLOW_REPLACE=database)",
    ]
    acknowledged = io.StringIO()
    assert (
        offline_preview(
            "prod",
            acknowledged,
            config=CONFIG,
            program=SMALL_STACK,
            plans_dir=tmp_path,
            allow_replace="db-replica",
        )
        == 0
    )
    assert "delete database: aws:rds/instance:Instance db-replica (acknowledged)" in acknowledged.getvalue()
