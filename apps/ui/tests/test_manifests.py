"""The UI's cluster manifests as Argo CD renders them (overlay + the ApplicationSet's stack values),
through the repo's schema validators and against the contract. Checkov scans them with everything
else Argo CD syncs (tests/gitops/test_manifests_checkov.py, which also checks apps/ui/Dockerfile)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from florai import contract as api_contract
from florai_gitops import appsets, manifests, promote, validate
from florai_infra import names
from florai_ui import contract
from florai_ui.api_client import SERVICE_OF_ROUTE, SERVICE_OF_TASK

STACKS = manifests.ENVIRONMENTS
ALB = "alb.ingress.kubernetes.io"


def application(stack: str, name: str) -> dict:
    (app,) = [a for a in appsets.stack_applications(stack) if a["metadata"]["name"] == f"{name}-{stack}"]
    return app


def render_application(stack: str, folder: Path | None = None, name: str = "florai-ui") -> list[dict]:
    """The Application's path with its kustomize images and patches, the way Argo CD applies them
    (``kustomize edit set image`` semantics included: florai_gitops.manifests.kustomize_application)."""
    source = application(stack, name)["spec"]["source"]
    return manifests.kustomize_application(source, appsets.REPO_ROOT)


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return {stack: render_application(stack) for stack in STACKS}


def one(objects: list[dict], kind: str, name: str) -> dict:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def workload(objects: list[dict]) -> dict:
    (found,) = [o for o in objects if o["kind"] in ("Deployment", "Rollout")]
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_rendered_ui_passes_the_schema_and_crd_validators(rendered, stack):
    assert validate.schema_errors(rendered[stack], validate.kubernetes_version(stack)) == []
    unresolved = {p for p in appsets.placeholders(rendered[stack]) if not p.startswith("args.")}
    assert unresolved == set(), "every stack value resolves from the cluster Secret"
    assert validate.PLACEHOLDER not in json.dumps(rendered[stack]) and "set-by-bridge" not in json.dumps(
        rendered[stack]
    )


@pytest.mark.parametrize("stack", STACKS)
def test_ui_ingress_shares_the_api_alb_group_and_host_behind_the_stack_waf(rendered, stack):
    api_ingress = one(render_application(stack, name="florai"), "Ingress", "florai")
    ui_ingress = one(rendered[stack], "Ingress", "florai-ui")
    ui, api = ui_ingress["metadata"]["annotations"], api_ingress["metadata"]["annotations"]
    assert ui[f"{ALB}/group.name"] == api[f"{ALB}/group.name"]
    assert ui_ingress["spec"]["rules"][0]["host"] == api_ingress["spec"]["rules"][0]["host"]
    # The group's one ALB carries one web ACL: the stack's, from the cluster Secret.
    bridge = appsets.load_cluster(stack).annotations
    assert ui[f"{ALB}/wafv2-acl-arn"] == bridge[names.BRIDGE_WAF_ACL_ARN]
    assert ui[f"{ALB}/certificate-arn"] == bridge[names.BRIDGE_CERTIFICATE_ARN]
    assert ui_ingress["spec"]["rules"][0]["host"] == bridge[names.BRIDGE_API_HOSTNAME]
    assert ui[f"{ALB}/healthcheck-path"] == contract.HEALTH_PATH
    (path,) = ui_ingress["spec"]["rules"][0]["http"]["paths"]
    assert path["path"] == "/" and path["backend"]["service"]["name"] == "florai-ui"


@pytest.mark.parametrize("stack", STACKS)
def test_workload_ports_probes_security_and_scaling_follow_the_contract(rendered, stack):
    objects = rendered[stack]
    pod = workload(objects)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {
        "http": contract.UI_PORT,
        "metrics": contract.METRICS_PORT,
    }
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] == contract.HEALTH_PATH
    security = container["securityContext"]
    assert (
        security["readOnlyRootFilesystem"]
        and security["runAsNonRoot"]
        and not security["allowPrivilegeEscalation"]
    )
    assert (
        security["capabilities"]["drop"] == ["ALL"]
        and pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    )
    (tmp,) = container["volumeMounts"]
    assert tmp["mountPath"] == "/tmp" and "emptyDir" in next(
        v for v in pod["volumes"] if v["name"] == tmp["name"]
    )
    # The stack's UI repository (from the cluster Secret) at the digest the overlay pins.
    bridge = appsets.load_cluster(stack).annotations
    pinned = promote.Overlay.find(appsets.REPO_ROOT, stack, promote.UI).current(promote.UI_IMAGE)
    assert container["image"] == f"{bridge[names.BRIDGE_UI_ECR_REPOSITORY_URL]}@{pinned.value}"
    assert bridge[names.BRIDGE_UI_ECR_REPOSITORY_URL].endswith("/" + names.ui_image_repository(stack))

    hpa = one(objects, "HorizontalPodAutoscaler", "florai-ui")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 5)
    assert hpa["metrics"][0]["resource"]["target"]["averageUtilization"] == 60
    assert hpa["scaleTargetRef"]["kind"] == workload(objects)["kind"]
    assert one(objects, "PodDisruptionBudget", "florai-ui")["spec"]["maxUnavailable"] == 1
    service_ports = {p["name"]: p["port"] for p in one(objects, "Service", "florai-ui")["spec"]["ports"]}
    assert service_ports == {"http": contract.UI_PORT, "metrics": contract.METRICS_PORT}
    endpoints = one(objects, "ServiceMonitor", "florai-ui")["spec"]["endpoints"]
    assert [e["port"] for e in endpoints] == ["metrics"]


@pytest.mark.parametrize("stack", STACKS)
def test_network_policies_let_in_only_the_alb_and_out_only_the_api_and_dns(rendered, stack):
    policies = [o for o in rendered[stack] if o["kind"] == "NetworkPolicy"]
    ui_policies = [
        p
        for p in policies
        if p["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "florai-ui"}}
    ]
    ingress = [rule for p in ui_policies for rule in p["spec"].get("ingress", [])]
    ports = sorted(port["port"] for rule in ingress for port in rule["ports"])
    assert ports == [contract.UI_PORT, contract.METRICS_PORT]
    (alb,) = [r for r in ingress if r["ports"][0]["port"] == contract.UI_PORT]
    vpc_cidr = appsets.load_cluster(stack).annotations[names.BRIDGE_VPC_CIDR]
    assert alb["from"] == [{"ipBlock": {"cidr": vpc_cidr}}]
    egress = [rule for p in ui_policies for rule in p["spec"].get("egress", [])]
    assert sorted(port["port"] for rule in egress for port in rule["ports"]) == [
        53,
        53,
        api_contract.HTTP_PORT,
    ]
    (api,) = [r for r in egress if r["ports"][0]["port"] == api_contract.HTTP_PORT]
    assert api["to"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "florai"}}}]
    assert any(
        p["spec"].get("policyTypes") == ["Ingress", "Egress"] and not p["spec"].get("ingress")
        for p in ui_policies
    )


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_ui_canary_takes_the_api_canary_steps(rendered, stack):
    api_rollouts = [
        o for o in manifests.rendered(stack) if o["kind"] == "Rollout" and "florai-" in o["metadata"]["name"]
    ]
    ui_canary = workload(rendered[stack])["spec"]["strategy"]["canary"]
    assert workload(rendered[stack])["kind"] == "Rollout"
    assert ui_canary["steps"] == api_rollouts[0]["spec"]["strategy"]["canary"]["steps"]
    assert ui_canary["analysis"]["templates"] == [{"templateName": "florai-ui-canary"}]
    one(rendered[stack], "AnalysisTemplate", "florai-ui-canary")


def test_dev_has_no_canary(rendered):
    assert workload(rendered["dev"])["kind"] == "Deployment"


def test_the_ui_calls_each_route_on_the_service_the_api_ingress_sends_it_to(rendered):
    api_ingress = one(list(manifests.rendered("dev")), "Ingress", "florai")
    routes = {
        p["path"].removeprefix(api_contract.API_PREFIX + "/"): p["backend"]["service"]["name"]
        for p in api_ingress["spec"]["rules"][0]["http"]["paths"]
    }
    routes.pop("batch")  # the UI sends a batch straight to its task's service
    assert {route: f"florai-{service}" for route, service in SERVICE_OF_ROUTE.items()} == routes
    assert set(SERVICE_OF_TASK) == set(api_contract.TASKS)
    (container,) = workload(rendered["dev"])["spec"]["template"]["spec"]["containers"]
    urls = json.loads(next(e["value"] for e in container["env"] if e["name"] == "FLORAI_UI_API_SERVICE_URLS"))
    assert urls == {
        name: f"http://florai-{name}.florai.svc.cluster.local" for name in api_contract.SERVICE_NAMES
    }


@pytest.mark.parametrize("stack", STACKS)
def test_the_credentials_come_from_the_secret_the_program_creates_and_never_block_the_start(rendered, stack):
    """The UI's API key (or OIDC client) arrives from the stack's Secrets Manager secret through an
    ExternalSecret; the Deployment reads it as optional, so an unfilled secret is a 401 on the page,
    not a pod that cannot start."""
    external = one(rendered[stack], "ExternalSecret", "florai-ui-credentials")["spec"]
    (extract,) = external["dataFrom"]
    assert extract["extract"]["key"] == names.ui_credentials_secret(stack)
    store = external["secretStoreRef"]
    api_objects = render_application(stack, name="florai")
    one(api_objects, store["kind"], store["name"])  # the API's application creates the store
    (container,) = workload(rendered[stack])["spec"]["template"]["spec"]["containers"]
    (source,) = container["envFrom"]
    assert source["secretRef"] == {"name": external["target"]["name"], "optional": True}
