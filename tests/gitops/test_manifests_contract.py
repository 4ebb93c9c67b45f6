"""The rendered manifests agree with the app's own definitions (florai.contract, florai.metrics)."""

from __future__ import annotations

import promql_parser
import pytest

from florai import contract, metrics
from florai_gitops import ingress, manifests

GPU_RESOURCE = "nvidia.com/gpu"
WORKLOAD_KINDS = ("Deployment", "Rollout")
ALL = [(env, obj) for env in manifests.ENVIRONMENTS for obj in manifests.rendered(env)]


def of_kind(env: str, *kinds: str) -> list[dict]:
    return [o for o in manifests.rendered(env) if o["kind"] in kinds]


def one(env: str, kind: str, name: str) -> dict:
    (found,) = [o for o in of_kind(env, kind) if o["metadata"]["name"] == name]
    return found


def inference(env: str, kind: str) -> list[dict]:
    """Objects of the inference services (app name florai); the backup exporter has its own app name."""
    return [o for o in of_kind(env, kind) if o["metadata"]["labels"]["app.kubernetes.io/name"] == "florai"]


def inference_workloads(env: str) -> list[dict]:
    return [
        w
        for w in of_kind(env, *WORKLOAD_KINDS)
        if w["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == "florai"
    ]


def container(workload: dict) -> dict:
    (only,) = workload["spec"]["template"]["spec"]["containers"]
    return only


def metric_names(query: str) -> set[str]:
    names: set[str] = set()

    def visit(node) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(query), visit)
    return names


@pytest.mark.parametrize("env", manifests.ENVIRONMENTS)
def test_one_workload_per_service_selecting_its_routes(env):
    workloads = {w["metadata"]["name"]: w for w in inference_workloads(env)}
    assert set(workloads) == {f"florai-{s.name}" for s in contract.SERVICES}
    for service in contract.SERVICES:
        w = workloads[f"florai-{service.name}"]
        labels = w["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/component"] == service.name
        assert (
            labels["app.kubernetes.io/name"] == "florai" and labels["app.kubernetes.io/part-of"] == "florai"
        )
        assert w["metadata"]["namespace"] == "florai"
        env_vars = {e["name"]: e.get("value") for e in container(w)["env"]}
        assert env_vars["FLORAI_SERVICES"] == service.name


@pytest.mark.parametrize("env", manifests.ENVIRONMENTS)
def test_ports_probes_and_service_targets_follow_the_contract(env):
    for w in inference_workloads(env):
        c = container(w)
        (port,) = c["ports"]
        assert port["containerPort"] == contract.HTTP_PORT
        for probe, path in (
            ("startupProbe", contract.HEALTH_PATH),
            ("livenessProbe", contract.HEALTH_PATH),
            ("readinessProbe", contract.READY_PATH),
        ):
            assert c[probe]["httpGet"]["path"] == path
            assert c[probe]["httpGet"]["port"] in (port["name"], contract.HTTP_PORT)
    ports_by_name = {"http": contract.HTTP_PORT}
    for svc in of_kind(env, "Service"):
        for p in svc["spec"]["ports"]:
            assert ports_by_name.get(p["targetPort"], p["targetPort"]) == contract.HTTP_PORT
    for monitor in of_kind(env, "ServiceMonitor"):
        assert [e["path"] for e in monitor["spec"]["endpoints"]] == [contract.METRICS_PATH]
    ingress = one(env, "Ingress", "florai")
    assert (
        ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/healthcheck-path"]
        == contract.READY_PATH
    )
    for policy in of_kind(env, "NetworkPolicy"):
        for rule in policy["spec"].get("ingress", []):
            assert [p["port"] for p in rule["ports"]] == [contract.HTTP_PORT]


@pytest.mark.parametrize("env", manifests.ENVIRONMENTS)
def test_ingress_routes_every_api_path_to_a_real_service(env):
    services = {s["metadata"]["name"] for s in inference(env, "Service")}
    rules = ingress.rules(one(env, "Ingress", "florai"))
    assert all(r.path.startswith(contract.API_PREFIX + "/") for r in rules)
    assert {r.target.service for r in rules if r.target.service} == services
    for task in contract.TASKS:
        assert f"{contract.API_PREFIX}/{task}" in {r.path for r in rules}


@pytest.mark.parametrize("env", manifests.ENVIRONMENTS)
def test_gpu_only_where_the_contract_says_and_never_for_consent(env):
    for service in contract.SERVICES:
        w = next(
            o for o in of_kind(env, *WORKLOAD_KINDS) if o["metadata"]["name"] == f"florai-{service.name}"
        )
        pod = w["spec"]["template"]["spec"]
        limits = container(w)["resources"]["limits"]
        on_gpu = service.gpu and env != "dev"
        assert (GPU_RESOURCE in limits) is on_gpu, (env, service.name)
        assert ("tolerations" in pod) is on_gpu and ("nodeSelector" in pod) is on_gpu
        device = {e["name"]: e.get("value") for e in container(w)["env"]}.get("FLORAI_DEVICE")
        assert device == ("cuda" if on_gpu else "cpu" if service.gpu else None)


@pytest.mark.parametrize("env", manifests.ENVIRONMENTS)
def test_analysis_and_autoscaling_queries_use_exported_metrics(env):
    queries = [
        t["metadata"]["query"]
        for so in of_kind(env, "ScaledObject")
        for t in so["spec"]["triggers"]
        if t["type"] == "prometheus"
    ]
    assert len(queries) == len(contract.SERVICES)
    for template in of_kind(env, "AnalysisTemplate"):
        queries += [m["provider"]["prometheus"]["query"] for m in template["spec"]["metrics"]]
    used = set().union(*(metric_names(q) for q in queries))
    assert used and used <= metrics.EXPORTED, used - metrics.EXPORTED
    if env != "dev":
        assert {"florai_http_requests_total", "florai_http_request_duration_seconds_bucket"} <= used


def test_metric_names_parser_sees_through_functions_and_templates():
    query = 'histogram_quantile(0.95, sum by (le) (rate(x_bucket{service="{{args.service}}"}[2m]))) / y'
    assert metric_names(query) == {"x_bucket", "y"}


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_canary_aborts_on_failed_analysis_of_the_new_pods(env):
    (template,) = of_kind(env, "AnalysisTemplate")
    assert {m["name"] for m in template["spec"]["metrics"]} == {"success-rate", "p95-latency"}
    for m in template["spec"]["metrics"]:
        assert m["failureLimit"] >= 0 and "successCondition" in m
        assert "{{args.canary-hash}}" in m["provider"]["prometheus"]["query"]
    monitor = one(env, "ServiceMonitor", "florai")
    assert "rollouts-pod-template-hash" in monitor["spec"]["podTargetLabels"]
    for rollout in of_kind(env, "Rollout"):
        canary = rollout["spec"]["strategy"]["canary"]
        assert canary["analysis"]["templates"] == [{"templateName": template["metadata"]["name"]}]
        weights = [s["setWeight"] for s in canary["steps"] if "setWeight" in s]
        assert (
            weights == sorted(weights) and weights[-1] == 100 and any("pause" in s for s in canary["steps"])
        )
    targets = {so["spec"]["scaleTargetRef"]["kind"] for so in of_kind(env, "ScaledObject")}
    assert targets == {"Rollout"}


@pytest.mark.parametrize("env", manifests.ENVIRONMENTS)
def test_restricted_pod_security_for_every_workload(env):
    (namespace,) = of_kind(env, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for w in of_kind(env, *WORKLOAD_KINDS):
        pod = w["spec"]["template"]["spec"]
        c = container(w)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert set(c["resources"]["requests"]) >= {"cpu", "memory"} <= set(c["resources"]["limits"])
        assert "/tmp" in {m["mountPath"] for m in c["volumeMounts"]}
        assert all("emptyDir" in v for v in pod["volumes"])
    for w in inference_workloads(env):
        pod = w["spec"]["template"]["spec"]
        assert {m["mountPath"] for m in container(w)["volumeMounts"]} == {"/tmp", "/data"}
        assert pod["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    selectors = {
        tuple(sorted(p["spec"]["selector"]["matchLabels"].items()))
        for p in of_kind(env, "PodDisruptionBudget")
    }
    assert len(selectors) == len(contract.SERVICES)


@pytest.mark.parametrize("env", manifests.ENVIRONMENTS)
def test_network_policies_deny_by_default_and_allow_each_flow(env):
    policies = {p["metadata"]["name"]: p["spec"] for p in of_kind(env, "NetworkPolicy")}
    deny = policies.pop("default-deny-all")
    assert deny["podSelector"] == {} and sorted(deny["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in deny and "egress" not in deny
    egress_ports = {
        (port["protocol"], port["port"])
        for spec in policies.values()
        for rule in spec.get("egress", [])
        for port in rule["ports"]
    }
    expected = {
        ("UDP", 53),
        ("TCP", 53),
        ("TCP", 5432),
        ("TCP", 6379),
        ("TCP", 4317),
        ("TCP", 4318),
        ("TCP", 443),
    }
    assert egress_ports == expected
