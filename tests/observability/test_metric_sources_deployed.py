"""Every alert's external metrics have a deployed source in every environment that loads the alerts
(issue 16, finding 2): each source in alerts/external-metrics.yaml names the ApplicationSet that
deploys it, and that ApplicationSet generates an Application wherever the alert rules are synced."""

from __future__ import annotations

import re

import pytest
import yaml

from florai_alerts.external_metrics import load_deployers, load_external_metrics
from florai_alerts.render import rule_files
from florai_dashboards.queries import metric_names
from florai_gitops import appsets

STACKS = ("dev", "staging", "prod")
CLOUDWATCH = "cloudwatch-exporter"


def generated(stack: str) -> dict[str, dict]:
    apps = appsets.stack_applications(stack, cluster=appsets.contract_cluster(stack))
    return {a["metadata"]["name"]: a for a in apps}


def external_metrics_in_rules() -> dict[str, str]:
    """{metric: source} of every external metric a rule reads."""
    external = load_external_metrics()
    rules = [r for _, doc in rule_files().values() for g in doc["groups"] for r in g["rules"]]
    used = {name for r in rules for name in metric_names(r["expr"])}
    return {m: external[m] for m in used if m in external}


def test_every_source_names_an_application_set_that_exists():
    sets = appsets.application_sets(appsets.directory_objects())
    names = {s["metadata"]["name"] for s in sets}
    # An ApplicationSet may generate "<deployer>-<env>" under another name (florai-ui-apps: florai-ui-dev).
    templates = {s["spec"]["template"]["metadata"]["name"].split("-{{")[0] for s in sets}
    for source, deployer in load_deployers().items():
        assert deployer in names | templates, (source, deployer)


@pytest.mark.parametrize("stack", STACKS)
def test_the_source_of_every_alert_metric_is_deployed_where_the_alerts_are(stack):
    apps = generated(stack)
    if f"florai-alerts-{stack}" not in apps:
        pytest.fail(f"{stack} loads no alert rules")
    deployers = load_deployers()
    missing = {
        metric: deployers[source]
        for metric, source in external_metrics_in_rules().items()
        if f"{deployers[source]}-{stack}" not in apps
    }
    assert missing == {}


def test_an_undeployed_source_is_caught():
    """The check above fails for an environment without the CloudWatch exporter."""
    cluster = appsets.contract_cluster("dev")
    off = appsets.Cluster(
        cluster.name,
        cluster.server,
        {**cluster.labels, "enable_cloudwatch_exporter": "false"},
        cluster.annotations,
    )
    names = {a["metadata"]["name"] for a in appsets.stack_applications("dev", cluster=off)}
    deployer = load_deployers()[CLOUDWATCH]
    assert f"{deployer}-dev" not in names and "florai-alerts-dev" in names
    assert CLOUDWATCH in set(external_metrics_in_rules().values())


# --- YACE: the exporter really exports the names and labels the alerts read ---------------------------
def prom_string(text: str) -> str:
    """YACE's promutil.PromString (pkg/promutil/prometheus.go)."""
    out, prev = [], ""
    for c in text:
        if c in " ,\t/\\.-:=@<>()":
            out.append("_")
        elif c == "%":
            out.append("_percent")
        else:
            if c.isupper() and (prev.islower() or prev.isdigit()):
                out.append("_")
            out.append(c.lower())
        prev = c
    return "".join(out)


def yace_metric_name(namespace: str, metric: str, statistic: str) -> str:
    """YACE's promutil.BuildMetricName (pkg/promutil/migrate.go) for an AWS/... namespace."""
    prom_ns = prom_string(namespace.lower())
    prefix = "" if prom_ns.startswith("aws") else "aws_"
    name = prom_string(metric)
    skip = 0
    for part in prom_ns.split("_"):
        if name[skip:].startswith(part):
            skip = len(part)
    name = name[skip:].removeprefix("_")
    return f"{prefix}{prom_ns}_{name}_{prom_string(statistic)}"


def yace_values() -> dict:
    (app,) = [a for n, a in generated("prod").items() if n.startswith(load_deployers()[CLOUDWATCH])]
    return app["spec"]["source"]["helm"]["valuesObject"]


def test_yace_name_rules_match_upstream_examples():
    assert yace_metric_name("AWS/RDS", "CPUUtilization", "Average") == "aws_rds_cpuutilization_average"
    assert yace_metric_name("AWS/ElastiCache", "CurrConnections", "Average") == (
        "aws_elasticache_curr_connections_average"
    )


def test_yace_exports_every_cloudwatch_metric_the_repository_reads():
    config = yaml.safe_load(yace_values()["config"])
    exported = {
        yace_metric_name(job["type"], m["name"], stat)
        for job in config["discovery"]["jobs"]
        for m in job["metrics"]
        for stat in m["statistics"]
    }
    wanted = {m for m, source in load_external_metrics().items() if source == CLOUDWATCH}
    assert wanted and wanted <= exported, wanted - exported


def test_yace_dimensions_become_the_labels_the_alerts_select():
    relabels = yace_values()["serviceMonitor"]["metricRelabelings"]
    targets = {r["targetLabel"] for r in relabels}
    rules = "\n".join(
        r["expr"]
        for _, doc in rule_files().values()
        for g in doc["groups"]
        for r in g["rules"]
        if "alert" in r
    )
    selected = set(re.findall(r"\b(dbinstance_identifier|cache_cluster_id|web_acl|rule)\b", rules))
    assert selected and selected <= targets
    for r in relabels:
        assert (
            r["sourceLabels"][0]
            == "dimension_"
            + {
                "dbinstance_identifier": "DBInstanceIdentifier",
                "cache_cluster_id": "CacheClusterId",
                "web_acl": "WebACL",
                "rule": "Rule",
            }[r["targetLabel"]]
        )


def test_yace_runs_as_the_irsa_account_of_the_program():
    from florai_infra import names

    values = yace_values()
    cluster = appsets.contract_cluster("prod")
    assert values["serviceAccount"]["name"] == names.CLOUDWATCH_EXPORTER.name
    role = cluster.annotations[names.role_arn_annotation(names.CLOUDWATCH_EXPORTER)]
    assert values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"] == role
    (app,) = [a for n, a in generated("prod").items() if n.startswith(load_deployers()[CLOUDWATCH])]
    assert app["spec"]["destination"]["namespace"] == names.CLOUDWATCH_EXPORTER.namespace


def test_argo_cd_controller_is_scraped():
    kps = generated("prod")["kube-prometheus-stack-prod"]["spec"]["source"]["helm"]["valuesObject"]
    (monitor,) = [
        m for m in kps["prometheus"]["additionalPodMonitors"] if m["name"] == "argocd-application-controller"
    ]
    assert monitor["namespaceSelector"]["matchNames"] == ["argocd"]
    assert monitor["selector"]["matchLabels"] == {"app.kubernetes.io/name": "argocd-application-controller"}
    assert [e["port"] for e in monitor["podMetricsEndpoints"]] == ["metrics"]
