"""Traces and logs reach a store Grafana reads (issue 16, finding 4): the app's OTLP endpoint is the
collector the add-ons install, the collector forwards to Tempo, pods' logs go to the stack's CloudWatch
Logs group, and Grafana's data sources link a trace to the log lines that carry its trace_id."""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import urlparse

import pytest
import yaml
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from florai.observability.logs import JsonFormatter
from florai_gitops import appsets, manifests
from florai_infra import names

STACKS = ("dev", "staging", "prod")
UPSTREAM = appsets.REPO_ROOT / "platform" / "upstream" / "charts"


def apps(stack: str) -> dict[str, dict]:
    generated = appsets.stack_applications(stack, cluster=appsets.contract_cluster(stack))
    return {a["metadata"]["name"].removesuffix(f"-{stack}"): a for a in generated}


def values(app: dict) -> dict:
    return app["spec"]["source"]["helm"]["valuesObject"]


def upstream_values(app: dict) -> dict:
    source = app["spec"]["source"]
    return yaml.safe_load((UPSTREAM / source["chart"] / source["targetRevision"] / "values.yaml").read_text())


def service_address(app: dict) -> str:
    return f"{values(app)['fullnameOverride']}.{app['spec']['destination']['namespace']}.svc"


def port_of(endpoint: str) -> int:
    return int(endpoint.rpartition(":")[2])


@pytest.mark.parametrize("stack", STACKS)
def test_the_apps_export_to_the_collector_the_addons_install(stack):
    found = apps(stack)
    collector = found["opentelemetry-collector"]
    (config,) = [
        o
        for o in manifests.rendered(stack)
        if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "florai-config"
    ]
    endpoint = urlparse(config["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert endpoint.hostname == service_address(collector)
    receiver = upstream_values(collector)["config"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]
    assert endpoint.port == port_of(receiver)
    pipeline = values(collector)["config"]["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_collector_forwards_traces_to_tempo_and_grafana_reads_tempo(stack):
    found = apps(stack)
    collector, tempo = values(found["opentelemetry-collector"]), found["tempo"]
    (exporter,) = collector["config"]["service"]["pipelines"]["traces"]["exporters"]
    target = collector["config"]["exporters"][exporter]["endpoint"]
    tempo_upstream = upstream_values(tempo)["tempo"]
    assert target.rpartition(":")[0] == service_address(tempo)
    assert port_of(target) == port_of(tempo_upstream["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"])
    assert values(tempo)["persistence"]["enabled"] is True
    sources = {
        d["uid"]: d for d in values(found["kube-prometheus-stack"])["grafana"]["additionalDataSources"]
    }
    url = urlparse(sources["tempo"]["url"])
    assert url.hostname == service_address(tempo) and url.port == tempo_upstream["server"]["http_listen_port"]


@pytest.mark.parametrize("stack", STACKS)
def test_pod_logs_go_to_the_stack_log_group_that_grafana_queries(stack):
    found = apps(stack)
    shipper = found["fluent-bit"]
    assert shipper["spec"]["destination"]["namespace"] == names.LOG_SHIPPER.namespace
    account = values(shipper)["serviceAccount"]
    assert account["name"] == names.LOG_SHIPPER.name
    role = f"{{{{metadata.annotations.{names.role_arn_annotation(names.LOG_SHIPPER)}}}}}"
    template = next(
        s
        for s in appsets.application_sets(appsets.directory_objects())
        if s["metadata"]["name"] == "fluent-bit"
    )
    assert (
        template["spec"]["template"]["spec"]["source"]["helm"]["valuesObject"]["serviceAccount"][
            "annotations"
        ]["eks.amazonaws.com/role-arn"]
        == role
    )
    output = values(shipper)["config"]["outputs"]
    group = re.search(r"log_group_name (\S+)", output).group(1)
    assert "Name cloudwatch_logs" in output and "auto_create_group false" in output
    cluster = appsets.contract_cluster(stack)
    assert group == cluster.annotations[names.BRIDGE_LOG_GROUP_NAME]
    sources = {
        d["uid"]: d for d in values(found["kube-prometheus-stack"])["grafana"]["additionalDataSources"]
    }
    logs = sources[sources["tempo"]["jsonData"]["tracesToLogsV2"]["datasourceUid"]]
    assert [g["name"] for g in logs["jsonData"]["logGroups"]] == [group]


def app_trace_field() -> str:
    """The key under which the app's JSON log line carries the current trace id."""
    tracer = TracerProvider().get_tracer("test")
    record = logging.LogRecord("florai", logging.INFO, __file__, 1, "hello", (), None)
    with tracer.start_as_current_span("request") as span:
        line = json.loads(JsonFormatter().format(record))
        expected = f"{span.get_span_context().trace_id:032x}"
    assert trace.get_current_span().get_span_context().is_valid is False
    (field,) = [k for k, v in line.items() if v == expected]
    return field


def test_the_app_logs_the_trace_id_the_trace_to_logs_query_filters_on():
    sources = values(apps("prod")["kube-prometheus-stack"])["grafana"]["additionalDataSources"]
    query = next(d for d in sources if d["uid"] == "tempo")["jsonData"]["tracesToLogsV2"]["query"]
    assert re.search(r"filter (\w+) = ", query).group(1) == app_trace_field()


def test_the_logs_dashboard_links_each_line_to_its_trace_in_grafanas_tempo():
    from florai_dashboards.boards import logs
    from florai_dashboards.queries import dashboards

    board = dashboards()[logs.UID]
    (panel,) = board["panels"]
    (target,) = panel["targets"]
    assert target["queryMode"] == "Logs" and logs.TRACE_FIELD in target["expression"]
    (override,) = [
        o for o in panel["fieldConfig"]["overrides"] if o["matcher"]["options"] == logs.TRACE_FIELD
    ]
    (link,) = [p for p in override["properties"] if p["id"] == "links"][0]["value"]
    assert "${__value.raw}" in link["url"]
    sources = values(apps("prod")["kube-prometheus-stack"])["grafana"]["additionalDataSources"]
    uids = {d["uid"]: d["type"] for d in sources}
    assert uids[logs.TEMPO_UID] == "tempo" and board["templating"]["list"][0]["query"] == uids["cloudwatch"]
    # The field the app writes is the one the panel links.
    assert app_trace_field() == logs.TRACE_FIELD
