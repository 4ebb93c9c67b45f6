"""The monthly estimate: every planned AWS type priced or free, prices from the vendored table, the delta."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import re
import subprocess
import sys

import pytest
import yaml

from florai_infra import STACKS
from florai_infra.cost.estimate import UnpricedTypeError, estimate
from florai_infra.cost.items import FREE, PRICED
from florai_infra.cost.prices import PRICES_FILE, MissingPriceError, price, price_table
from florai_infra.cost.refresh import QUERIES, first_on_demand_usd, refreshed
from florai_infra.offline.engine import REPO_ROOT
from florai_infra.preview.cli import main
from florai_infra.preview.snapshots import read_snapshot
from florai_infra.replacements.rules import is_covered_type
from florai_infra.replacements.types import WANTED_TYPES

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
HOURS = 730


@pytest.mark.parametrize("stack", STACKS)
def test_every_planned_aws_type_is_priced_or_free(stack):
    plan = read_snapshot(stack)
    types = {r.type for r in plan.resources if r.custom and is_covered_type(r.type)}
    assert types <= PRICED.keys() | FREE, sorted(types - PRICED.keys() - FREE)
    assert estimate(plan, stack).total > 0  # every priced resource found its price


def test_every_type_the_replace_table_knows_is_priced_or_free():
    assert set(WANTED_TYPES) <= PRICED.keys() | FREE
    assert not PRICED.keys() & FREE


def test_a_priced_type_with_no_price_fails_in_one_line():
    plan = copy.deepcopy(read_snapshot("dev"))
    group = plan.one(NODE_GROUP, "cluster-gpu-g6")
    bigger = dataclasses.replace(group, inputs={**group.inputs, "instanceTypes": ["p5.48xlarge"]})
    plan.resources = [bigger if r.urn == group.urn else r for r in plan.resources]
    with pytest.raises(
        MissingPriceError, match=r"^no price for ec2/instanceHour/p5\.48xlarge in us-east-1 in"
    ):
        estimate(plan, "dev")


def test_an_aws_type_neither_priced_nor_free_fails():
    plan = copy.deepcopy(read_snapshot("dev"))
    queue = dataclasses.replace(plan.resources[-1], urn="urn:q", type="aws:sqs/queue:Queue", custom=True)
    plan.resources.append(queue)
    with pytest.raises(UnpricedTypeError, match="aws:sqs/queue:Queue is neither priced nor listed free"):
        estimate(plan, "dev")


def test_prod_node_groups_cost_what_the_table_says():
    cost = estimate(read_snapshot("prod"), "prod")
    gpu = [i for i in cost.items if i.resource.name == "cluster-gpu-g5" and "x g5" in i.what]
    assert [(i.what, i.monthly) for i in gpu] == [
        ("2 x g5.xlarge", round(2 * price("us-east-1", "ec2", "instanceHour", "g5.xlarge") * HOURS, 2))
    ]
    assert cost.total == round(sum(cost.by_component().values()), 2)
    assert set(cost.by_component()) >= {"florai:cluster:Cluster cluster", "florai:database:Database database"}


def test_preview_prints_the_total_and_the_delta(tmp_path):
    config = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())["config"]
    config["florai:database"] = {**config["florai:database"], "instanceClass": "db.t4g.small"}
    scratch = tmp_path / "Pulumi.dev.yaml"
    scratch.write_text(yaml.safe_dump({"config": config}))
    out = io.StringIO()
    assert (
        main(["--stack", "dev", "--config", str(scratch), "--no-color", "--allow-replace", ""], out=out) == 0
    )
    text = out.getvalue()
    rates = {
        k: price("us-east-1", "rds", "postgresInstanceHour", k) for k in ("db.t4g.micro", "db.t4g.small")
    }
    delta = round((rates["db.t4g.small"] - rates["db.t4g.micro"]) * HOURS, 2)
    before = estimate(read_snapshot("dev"), "dev").total
    assert re.search(rf"^    total +\${before + delta:,.2f}/month$", text, re.M), text
    assert f"    change against the committed plan: +${delta:,.2f}/month (was ${before:,.2f})" in text
    assert re.search(rf"florai:database:Database database +\$[\d,.]+/month  \(\+\${delta:,.2f}\)", text)


def test_the_table_is_dated_and_sourced():
    table = price_table()
    assert table["retrieved"] == "2026-12-02" and table["currency"] == "USD"
    assert set(table["regions"]) == {"us-east-1", "us-west-2"}
    source = yaml.safe_load((PRICES_FILE.parent / "SOURCE.yaml").read_text())
    assert source["retrieved"] == table["retrieved"]
    assert all(url.startswith("https://") for url in source["sources"].values())


# One PriceList entry in the shape GetProducts answers (fields trimmed to those read).
PRODUCT = {
    "product": {"sku": "SKU1", "attributes": {"instanceType": "g6.xlarge"}},
    "terms": {
        "OnDemand": {
            "SKU1.T": {
                "priceDimensions": {
                    "SKU1.T.2": {"beginRange": "10240", "pricePerUnit": {"USD": "0.2500000000"}},
                    "SKU1.T.1": {"beginRange": "0", "pricePerUnit": {"USD": "0.5000000000"}},
                }
            }
        }
    },
}


def test_the_refresher_asks_for_every_price_in_the_table():
    asked = []

    def fetch(service, filters):
        asked.append((service, {f["Field"]: f["Value"] for f in filters}))
        return [json.dumps(PRODUCT)]

    table = refreshed(price_table(), fetch)
    assert first_on_demand_usd(json.dumps(PRODUCT)) == 0.5  # the first tier
    east = table["regions"]["us-east-1"]
    assert (
        east["ec2"]["instanceHour"].keys()
        == price_table()["regions"]["us-east-1"]["ec2"]["instanceHour"].keys()
    )
    assert east["ec2"]["instanceHour"]["g6.xlarge"] == 0.5
    assert ("AmazonEC2", {"regionCode": "us-west-2", "usagetype": "USW2-NatGateway-Hours"}) in asked
    leaves = {path for path, _ in QUERIES.items()}
    assert ("rds", "postgresInstanceHour", "*") in leaves


def test_make_prices_offline_fails_in_one_line():
    before = PRICES_FILE.read_text()
    done = subprocess.run(
        [sys.executable, "-m", "florai_infra.cost.refresh", "--endpoint", "https://127.0.0.1:9"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: cannot reach the AWS Price List API at https://127.0.0.1:9")
    assert PRICES_FILE.read_text() == before


def test_prod_runner_control_plane_and_log_shipper_cost_what_they_are():
    """The runner bills its own compute type, EKS 1.35 the standard-support rate, logs per group."""
    cost = estimate(read_snapshot("prod"), "prod")
    by = {(i.resource.name, i.resource.type.rsplit(":", 1)[1], i.what): i.monthly for i in cost.items}
    usage = yaml.safe_load((REPO_ROOT / "platform" / "cost-assumptions.yaml").read_text())["stacks"]["prod"]
    minutes = usage["buildMinutesPerMonth"]
    assert by[("ci-runner", "Project", f"{minutes} build minutes on g1.medium")] == round(
        minutes * price("us-east-1", "codebuild", "linuxMinute", "g1.medium"), 2
    )
    assert by[("cluster", "Cluster", "control plane (1.35, standard support)")] == round(
        price("us-east-1", "eks", "clusterHour") * HOURS, 2
    )
    shipped = usage["logIngestedGb"]["container-logs"]
    assert shipped > usage["logIngestedGb"]["ci-runner"]
    assert by[("container-logs", "LogGroup", f"{shipped} GB ingested")] == round(
        shipped * price("us-east-1", "logs", "ingestedGb"), 2
    )
    free = {"Certificate", "CertificateValidation", "Record", "Connection", "Webhook"}
    assert not {kind for (_, kind, _) in by} & free


def test_a_log_group_without_a_usage_assumption_fails_in_one_line():
    plan = copy.deepcopy(read_snapshot("dev"))
    group = next(r for r in plan.resources if r.type == "aws:cloudwatch/logGroup:LogGroup")
    renamed = dataclasses.replace(group, urn=group.urn + "-audit", name="audit-logs")
    plan.resources.append(renamed)
    with pytest.raises(MissingPriceError, match=r"^no logIngestedGb assumption for log group audit-logs in"):
        estimate(plan, "dev")


def test_what_aws_bills_beside_the_declared_resource_is_priced():
    """RDS's own master-password secret; images stored again in the registry's replica region."""
    cost = estimate(read_snapshot("prod"), "prod")
    by = {(i.resource.type.rsplit(":", 1)[1], i.what): i.monthly for i in cost.items}
    assert by[("Instance", "master password secret")] == price("us-east-1", "secretsManager", "secretMonth")
    usage = yaml.safe_load((REPO_ROOT / "platform" / "cost-assumptions.yaml").read_text())["stacks"]["prod"]
    gb = usage["registryStoredGb"]
    assert by[("ReplicationConfiguration", f"{gb} GB images in us-west-2")] == round(
        gb * price("us-west-2", "ecr", "storedGbMonth"), 2
    )


def test_a_control_plane_past_standard_support_bills_the_extended_rate():
    """On the price table's date 1.31 is past standard support: EXTENDED pays more, STANDARD is upgraded."""
    plan = copy.deepcopy(read_snapshot("prod"))
    cluster = plan.one("aws:eks/cluster:Cluster")
    for support, rate in (("EXTENDED", "extendedSupportClusterHour"), ("STANDARD", "clusterHour")):
        old = dataclasses.replace(
            cluster, inputs={**cluster.inputs, "version": "1.31", "upgradePolicy": {"supportType": support}}
        )
        plan.resources = [old if r.urn == cluster.urn else r for r in plan.resources]
        [item] = [i for i in estimate(plan, "prod").items if i.resource.urn == cluster.urn]
        assert item.monthly == round(price("us-east-1", "eks", rate) * HOURS, 2), support
    assert item.what == "control plane (1.31, standard support)"
