"""Values the offline engine invents print as placeholders; the plan JSON keeps them for references."""

from __future__ import annotations

import io
import re

from florai_infra import upstream
from florai_infra.offline.engine import ACCOUNT_ID, load_stack_config
from florai_infra.offline.placeholders import invented, mask
from florai_infra.preview.cli import main
from florai_infra.preview.snapshots import read_snapshot
from tests.infra.test_preview import preview


def test_preview_prints_invented_values_as_placeholders():
    out = io.StringIO()
    assert main(["--stack", "dev", "--no-color", "--allow-replace", ""], out=out) == 0
    text = out.getvalue()
    assert re.search(r'^    databaseEndpoint: +"<endpoint of database>"$', text, re.M)
    assert re.search(r'^    vpcId: +"<id of network-vpc>"$', text, re.M)
    # the stack's account is its config's (aws:allowedAccountIds), real, and so are names built on it
    account = load_stack_config("dev")["aws:allowedAccountIds"][0]
    assert re.search(rf'^    awsAccountId: +"{account}"$', text, re.M)
    assert re.search(rf'^    modelBucketName: +"florai-dev-models-{account}"$', text, re.M)
    # add-on builds are the pinned ones (the engine answers from the table), real: never placeholders
    for addon, version in upstream.addon_versions()["1.35"].items():
        assert f"addonName={addon}  addonVersion={version}" in text
        assert re.search(rf'^        {addon}: +"{re.escape(version)}"$', text, re.M)
    # nothing the engine made up appears as if it were real
    assert not re.search(r"\b(vpc|subnet|sg|rtb|lt)-[0-9a-f]{17}\b", text)
    assert "rds.amazonaws.com" not in text and "eks.amazonaws.com" not in text
    assert "123456789012" not in text and "<account>" not in text


def test_an_account_the_engine_invents_is_a_placeholder(tmp_path):
    """A program whose stack names no account: the engine's stand-in prints as <account>."""
    rc, out, _ = preview(tmp_path, "--no-color")
    assert rc == 0
    assert invented()[ACCOUNT_ID] == "<account>"
    assert mask(f"arn:aws:iam::{ACCOUNT_ID}:role/eks") == "arn:aws:iam::<account>:role/eks"
    assert ACCOUNT_ID not in out


def test_the_plan_keeps_the_values_and_the_map_names_them(dev_plan):
    endpoint = dev_plan.outputs["databaseEndpoint"]  # the run remembered what it invented
    assert read_snapshot("dev").outputs["databaseEndpoint"] == endpoint
    assert endpoint.endswith(".rds.amazonaws.com:5432")  # references between resources need the value
    assert invented()[endpoint] == "<endpoint of database>"
    assert mask(f"host={endpoint}") == "host=<endpoint of database>"
    assert mask("florai-dev") == "florai-dev"  # names the program sets are real
