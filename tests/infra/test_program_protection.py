"""Stateful resources carry `protect` (and `retainOnDelete` where data lives) outside dev.

The offline engine records both options from the RegisterResource request, so the plan, the
preview tree and the `stateful-resources-protected` policy see what `pulumi up` would apply.
"""

from __future__ import annotations

import io
import re
import subprocess

import pytest
import yaml

from florai_infra.offline.engine import PROGRAM, REPO_ROOT, run_stack
from florai_infra.policies.evaluate import evaluate
from florai_infra.policies.protection import HOLDS_DATA, STATEFUL
from florai_infra.preview.cli import EXIT_GUARDED, main
from florai_infra.preview.snapshots import read_snapshot
from florai_infra.replacements.guard import PROTECTED_NOTE
from tests.infra.test_preview import preview

POLICY = "stateful-resources-protected"


def _verdict(plan):
    return next(v for v in evaluate(plan) if v.policy.name == POLICY)


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_stateful_resources_are_protected_and_data_retained(stack):
    plan = read_snapshot(stack)
    stateful = [r for r in plan.custom_resources if r.type in STATEFUL]
    assert {r.type for r in stateful} >= {
        "aws:rds/instance:Instance",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:s3/bucket:Bucket",
        "aws:kms/key:Key",
        "aws:eks/cluster:Cluster",
        "aws:ecr/repository:Repository",
    }
    for r in stateful:
        assert r.protect is True, r.urn
        assert r.retain_on_delete is (r.type in HOLDS_DATA), r.urn
    assert not any(r.protect for r in plan.custom_resources if r.type not in STATEFUL)
    assert _verdict(plan).passed


def test_dev_can_be_torn_down():
    plan = read_snapshot("dev")
    assert all(r.protect is False and r.retain_on_delete is False for r in plan.resources)


def test_make_preview_prod_shows_protected_stateful_resources():
    # -o: the venv's own staleness is not what this judges (tests/dev/test_makefile.py does the same)
    done = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed-stamp", "preview", "STACK=prod"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout
    marked = re.findall(r"^\+ .* (aws:\S+) +(\S+) +create  \[([a-z ,]+)\]$", text, re.M)
    expected = {
        (r.type, r.name, "protected, retained on delete" if r.type in HOLDS_DATA else "protected")
        for r in read_snapshot("prod").custom_resources
        if r.type in STATEFUL
    }
    assert set(marked) == expected
    assert f"pass  {POLICY} (mandatory)" in text


def test_an_unprotected_prod_database_fails_the_policy(tmp_path):
    """The real program with the database's protection removed: the policy names it."""
    source = PROGRAM.read_text()
    block = re.search(r"database = Database\(\n.*?\n\)\n", source, re.S)
    assert block and block[0].count("protect=protect,") == 1
    scratch = tmp_path / "__main__.py"
    scratch.write_text(source.replace(block[0], block[0].replace("protect=protect,", "protect=False,")))
    verdict = _verdict(run_stack("prod", program=scratch))
    assert [v.resource for v in verdict.violations] == ["aws:rds/instance:Instance database"]
    assert "is not protected: a destroy or replacement would delete it" in verdict.violations[0].message


def test_an_unprotected_bucket_fails_the_preview(tmp_path):
    """The small program with one bucket left unprotected: exit 1 and the policy's verdict."""
    rc, out, _ = preview(tmp_path, "--no-color", **{"florai:unprotect": "models-bucket"})
    assert rc == 1
    assert f"FAIL  {POLICY} (mandatory)" in out
    assert "aws:s3/bucket:Bucket models-bucket: aws:s3/bucket:Bucket models-bucket is not protected" in out
    assert re.search(r"models-bucket +create$", out, re.M)  # no marker on its row


def test_markdown_summary_counts_protected_resources():
    out = io.StringIO()
    assert main(["--stack", "prod", "--format", "markdown", "--allow-replace", ""], out=out) == 0
    plan = read_snapshot("prod")
    stateful = [r for r in plan.custom_resources if r.type in STATEFUL]
    retained = [r for r in stateful if r.type in HOLDS_DATA]
    assert f"resources ({len(stateful)} protected, {len(retained)} retained on delete);" in out.getvalue()


def test_replacing_a_protected_database_says_pulumi_will_refuse(tmp_path):
    """Acknowledging a prod replacement is not enough: the guard says the protection stops pulumi up."""
    config = yaml.safe_load((REPO_ROOT / "Pulumi.prod.yaml").read_text())["config"]
    config["aws:region"] = "us-east-2"  # every regional resource moves: the database is replaced
    scratch = tmp_path / "Pulumi.prod.yaml"
    scratch.write_text(yaml.safe_dump({"config": config}))
    out = io.StringIO()
    argv = ["--stack", "prod", "--config", str(scratch), "--no-color", "--allow-replace", "database"]
    assert main(argv, out=out) == EXIT_GUARDED  # the other stateful resources are not acknowledged
    line = next(x for x in out.getvalue().splitlines() if "replace database: aws:rds/instance:Instance" in x)
    assert line.endswith(f"(acknowledged; {PROTECTED_NOTE})")
