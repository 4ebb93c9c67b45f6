"""The Applications each stack's Argo CD generates from argocd/, checked against the cluster Secret
the Pulumi bootstrap writes (platform/plans/<stack>.json) and against the repository itself."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess

import pytest
import yaml

from florai_gitops import appsets
from florai_infra import names
from florai_infra.offline.plan import Plan

STACKS = ("dev", "staging", "prod")
ADDONS = {
    "aws-load-balancer-controller",
    "external-dns",
    "external-secrets",
    "nvidia-device-plugin",
    "dcgm-exporter",
    "kube-prometheus-stack",
    "argo-rollouts",
    "keda",
    "metrics-server",
    "cluster-autoscaler",
    "blackbox-exporter",
    "yace-cloudwatch-exporter",
    "opentelemetry-collector",
    "tempo",
    "fluent-bit",
}
# Platform configuration this repository holds (ApplicationSet -> path), synced like an add-on.
PLATFORM_PATHS = {"prometheus-storage": "apps/deploy/cluster"}
# ApplicationSets named apart from their chart; every other add-on is named after its chart.
CHART_OF_ADDON = {
    "blackbox-exporter": "prometheus-blackbox-exporter",
    "yace-cloudwatch-exporter": "prometheus-yet-another-cloudwatch-exporter",
}
# Add-ons enabled by a label named apart from the add-on.
LABEL_OF_ADDON = {
    "yace-cloudwatch-exporter": "enable_cloudwatch_exporter",
    "opentelemetry-collector": "enable_otel_collector",
}
EXACT_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
# Kinds that live outside namespaces (the ones our sources and charts may render).
CLUSTER_SCOPED = {
    "Namespace",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "ClusterSecretStore",
    "ClusterExternalSecret",
    "ClusterAnalysisTemplate",
    "ClusterTriggerAuthentication",
    "IngressClass",
    "IngressClassParams",
    "PriorityClass",
    "StorageClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    "RuntimeClass",
    "PersistentVolume",
}


@pytest.fixture(scope="module")
def objects():
    return appsets.directory_objects()


@pytest.fixture(scope="module")
def projects(objects):
    return {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "AppProject"}


@pytest.fixture(scope="module")
def generated():
    # The cluster Secret as the contract says (tests/gitops/test_bridge.py checks the plans keep to it).
    return {
        stack: appsets.stack_applications(stack, cluster=appsets.contract_cluster(stack)) for stack in STACKS
    }


def gitops_config(stack: str) -> dict:
    return yaml.safe_load((appsets.REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]["florai:gitops"]


def repo_sources(apps):
    return [a for a in apps if "path" in a["spec"]["source"]]


@pytest.fixture(scope="module")
def rendered_paths(generated):
    """kubectl kustomize of every repository path an Application syncs, once per path."""
    paths = {a["spec"]["source"]["path"] for apps in generated.values() for a in repo_sources(apps)}
    out = {}
    for path in sorted(paths):
        text = subprocess.run(
            ["kubectl", "kustomize", str(appsets.REPO_ROOT / path)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        out[path] = [d for d in yaml.safe_load_all(text) if d]
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_every_addon_and_the_apps_are_generated_for_each_stack(generated, stack):
    found = {a["metadata"]["name"] for a in generated[stack]}
    expected = {f"{addon}-{stack}" for addon in ADDONS | set(PLATFORM_PATHS)} | {
        f"florai-{stack}",
        f"florai-ui-{stack}",
        f"florai-alerts-{stack}",
        f"florai-dashboards-{stack}",
    }
    assert found == expected


@pytest.mark.parametrize("stack", STACKS)
def test_every_placeholder_resolves_from_the_cluster_secret(objects, stack):
    cluster = appsets.contract_cluster(stack)
    for appset in appsets.application_sets(objects):
        for app in appsets.applications(appset, cluster):
            assert appsets.placeholders(app) == set(), app["metadata"]["name"]


def test_go_templates_of_the_synced_objects_are_not_parameters():
    assert appsets.placeholders({"a": "{{ .password | urlquery }}@{{metadata.labels.environment}}"}) == {
        "metadata.labels.environment"
    }


def test_application_sets_read_only_labels_and_annotations_the_bootstrap_writes(objects):
    for stack in STACKS:
        cluster = appsets.contract_cluster(stack)
        for appset in appsets.application_sets(objects):
            name = appset["metadata"]["name"]
            for key in appsets.placeholders(appset["spec"]["template"]):
                if key.startswith("metadata.annotations."):
                    # The names contract; tests/gitops/test_bridge.py checks the plans keep to it.
                    assert key.removeprefix("metadata.annotations.") in appsets.bridge_annotations(), (
                        stack,
                        name,
                        key,
                    )
                elif key.startswith("metadata.labels."):
                    assert key.removeprefix("metadata.labels.") in cluster.labels, (stack, name, key)
            for label in appsets.selector_label_keys(appset["spec"]["generators"]):
                assert label in cluster.labels, (stack, name, label)


def test_addon_values_read_the_annotations_the_charts_need(objects):
    wanted = {
        "aws-load-balancer-controller": {
            "aws_load_balancer_controller_role_arn",
            "aws_cluster_name",
            "aws_region",
            "aws_vpc_id",
        },
        "external-secrets": {"external_secrets_role_arn"},
        "cluster-autoscaler": {"cluster_autoscaler_role_arn", "aws_cluster_name", "aws_region"},
        "external-dns": {"external_dns_role_arn", "hosted_zone_id", "domain_name", "aws_cluster_name"},
    }
    by_name = {s["metadata"]["name"]: s for s in appsets.application_sets(objects)}
    for addon, keys in wanted.items():
        read = {k.removeprefix("metadata.annotations.") for k in appsets.placeholders(by_name[addon])}
        assert keys <= read, (addon, keys - read)


def test_irsa_service_accounts_match_the_trust_policies(generated):
    """IAM roles trust system:serviceaccount:<ns>:<name> (florai_infra.names): charts create exactly that."""
    apps = {a["metadata"]["name"]: a["spec"] for a in generated["prod"]}
    chart_accounts = {
        names.LOAD_BALANCER_CONTROLLER: ("aws-load-balancer-controller-prod", ("serviceAccount",)),
        names.EXTERNAL_SECRETS: ("external-secrets-prod", ("serviceAccount",)),
        names.CLUSTER_AUTOSCALER: ("cluster-autoscaler-prod", ("rbac", "serviceAccount")),
        names.EXTERNAL_DNS: ("external-dns-prod", ("serviceAccount",)),
        names.CLOUDWATCH_EXPORTER: ("yace-cloudwatch-exporter-prod", ("serviceAccount",)),
        names.LOG_SHIPPER: ("fluent-bit-prod", ("serviceAccount",)),
        names.GRAFANA: ("kube-prometheus-stack-prod", ("grafana", "serviceAccount")),
    }
    cluster = appsets.contract_cluster("prod")
    for account, (app, path) in chart_accounts.items():
        spec = apps[app]
        values = spec["source"]["helm"]["valuesObject"]
        for key in path:
            values = values[key]
        assert spec["destination"]["namespace"] == account.namespace, app
        assert values["name"] == account.name, app
        role_key = names.role_arn_annotation(account)
        assert values["annotations"]["eks.amazonaws.com/role-arn"] == cluster.annotations[role_key]


def test_chart_versions_are_pinned_exactly(objects):
    charts = [s["spec"]["template"]["spec"]["source"] for s in appsets.application_sets(objects)]
    charts = [c for c in charts if "chart" in c]
    assert {c["chart"] for c in charts} == {CHART_OF_ADDON.get(addon, addon) for addon in ADDONS}
    for chart in charts:
        assert EXACT_VERSION.match(str(chart["targetRevision"])), chart


def test_kube_prometheus_stack_loads_the_dashboards_the_repo_ships(objects, rendered_paths):
    kps = next(
        s for s in appsets.application_sets(objects) if s["metadata"]["name"] == "kube-prometheus-stack"
    )
    sidecar = kps["spec"]["template"]["spec"]["source"]["helm"]["valuesObject"]["grafana"]["sidecar"][
        "dashboards"
    ]
    assert sidecar["enabled"] is True
    configmaps = [o for o in rendered_paths["dashboards"] if o["kind"] == "ConfigMap"]
    assert configmaps
    for cm in configmaps:
        assert cm["metadata"]["labels"].get(sidecar["label"]) == sidecar["labelValue"], cm["metadata"]["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_repository_sources_are_this_repository_and_exist(generated, stack):
    config = gitops_config(stack)
    apps = repo_sources(generated[stack])
    assert {a["spec"]["source"]["path"] for a in apps} == {
        f"apps/deploy/overlays/{stack}",
        f"apps/deploy/ui/overlays/{stack}",
        "alerts",
        "dashboards",
        *PLATFORM_PATHS.values(),
    }
    for app in apps:
        source = app["spec"]["source"]
        assert source["repoURL"] == config["repoUrl"]
        assert source["targetRevision"] == config["targetRevision"]
        assert (appsets.REPO_ROOT / source["path"] / "kustomization.yaml").is_file(), source["path"]


def test_every_synced_path_renders(rendered_paths):
    for path, docs in rendered_paths.items():
        assert docs, f"{path} renders nothing"


@pytest.mark.parametrize("stack", STACKS)
def test_projects_allow_every_source_destination_and_rendered_kind(
    generated, projects, rendered_paths, stack
):
    for app in generated[stack]:
        spec = app["spec"]
        project = projects[spec["project"]]
        assert spec["source"]["repoURL"] in project["sourceRepos"], app["metadata"]["name"]
        allowed = {(d["server"], d["namespace"]) for d in project["destinations"]}
        dest = spec["destination"]
        assert (dest["server"], dest["namespace"]) in allowed, app["metadata"]["name"]
        if "path" not in spec["source"]:
            continue
        whitelist = {(k["group"], k["kind"]) for k in project.get("clusterResourceWhitelist", [])}
        for obj in rendered_paths[spec["source"]["path"]]:
            if obj["kind"] in CLUSTER_SCOPED:
                group = obj["apiVersion"].rpartition("/")[0]
                assert (group, obj["kind"]) in whitelist, (app["metadata"]["name"], obj["kind"])
            else:
                namespace = obj["metadata"].get("namespace", dest["namespace"])
                assert (dest["server"], namespace) in allowed, (
                    app["metadata"]["name"],
                    obj["kind"],
                    namespace,
                )


def test_the_project_whitelists_stay_narrow(projects):
    for name, project in projects.items():
        assert "*" not in project["sourceRepos"], name
        for dest in project["destinations"]:
            assert dest["namespace"] != "*" and dest["server"] == appsets.IN_CLUSTER_SERVER, name
        for kind in project["clusterResourceWhitelist"]:
            assert "*" not in (kind["group"], kind["kind"]), name
    assert projects["florai"]["sourceRepos"] == [gitops_config("prod")["repoUrl"]]


def in_sync_window(app, project) -> bool:
    return any(
        w["kind"] == "allow"
        and any(fnmatch.fnmatch(app["metadata"]["name"], g) for g in w.get("applications", []))
        for w in project.get("syncWindows", [])
    )


def test_prod_applications_sync_by_hand_or_inside_a_window(generated, projects):
    for app in generated["prod"]:
        automated = app["spec"].get("syncPolicy", {}).get("automated")
        assert automated is None or in_sync_window(app, projects[app["spec"]["project"]]), app["metadata"][
            "name"
        ]
    inference = next(a for a in generated["prod"] if a["metadata"]["name"] == "florai-prod")
    assert "automated" not in inference["spec"]["syncPolicy"], "prod inference deploys are a manual sync"


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_dev_and_staging_sync_automatically_with_prune_and_self_heal(generated, projects, stack):
    for app in generated[stack]:
        assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}, app["metadata"][
            "name"
        ]
        assert not in_sync_window(app, projects[app["spec"]["project"]]), app["metadata"]["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_application_retries_with_backoff(generated, stack):
    for app in generated[stack]:
        retry = app["spec"]["syncPolicy"]["retry"]
        assert retry["limit"] > 0 and retry["backoff"]["factor"] > 1, app["metadata"]["name"]


def test_crd_heavy_addons_apply_server_side(generated):
    for app in generated["prod"]:
        if app["spec"]["source"].get("chart") in {
            "kube-prometheus-stack",
            "keda",
            "external-secrets",
            "argo-rollouts",
        }:
            assert "ServerSideApply=true" in app["spec"]["syncPolicy"]["syncOptions"], app["metadata"]["name"]


def test_gpu_addons_follow_the_gpu_label_of_the_cluster_secret(objects):
    cluster = appsets.contract_cluster("prod")
    no_gpu = appsets.Cluster(
        cluster.name,
        cluster.server,
        {**cluster.labels, "enable_nvidia_device_plugin": "false", "enable_dcgm_exporter": "false"},
        cluster.annotations,
    )
    names_without = {
        a["metadata"]["name"]
        for s in appsets.application_sets(objects)
        for a in appsets.applications(s, no_gpu)
    }
    assert "nvidia-device-plugin-prod" not in names_without and "dcgm-exporter-prod" not in names_without
    assert "keda-prod" in names_without


def test_stack_plans_are_the_cluster_secret_source():
    for stack in STACKS:
        plan = Plan.loads((appsets.PLANS_DIR / f"{stack}.json").read_text())
        assert appsets.cluster_from_plan(plan).labels["environment"] == stack


def wave(obj) -> int:
    return int(obj["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0"))


@pytest.mark.parametrize("stack", STACKS)
def test_overlay_syncs_namespace_then_secrets_then_workloads(generated, stack, tmp_path):
    """The Application's kustomize patches, applied to the real overlay as Argo CD applies them."""
    source = next(a for a in generated[stack] if a["metadata"]["name"] == f"florai-{stack}")["spec"]["source"]
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        # kustomize takes directory resources by relative path only.
        "resources": [os.path.relpath(appsets.REPO_ROOT / source["path"], tmp_path)],
        "patches": source["kustomize"]["patches"],
    }
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    text = subprocess.run(
        ["kubectl", "kustomize", str(tmp_path)], check=True, capture_output=True, text=True
    ).stdout
    docs = [d for d in yaml.safe_load_all(text) if d]
    by_kind: dict[str, set[int]] = {}
    for obj in docs:
        by_kind.setdefault(obj["kind"], set()).add(wave(obj))
    assert by_kind["Namespace"] == by_kind["ClusterSecretStore"] == {-2}
    assert by_kind["ExternalSecret"] == {-1}
    workloads = by_kind.get("Deployment", set()) | by_kind.get("Rollout", set())
    assert workloads == {0}
    # Nothing but the annotation changes: the same objects as the overlay alone.
    plain = subprocess.run(
        ["kubectl", "kustomize", str(appsets.REPO_ROOT / source["path"])],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert sorted(appsets.object_key(o) for o in yaml.safe_load_all(plain) if o) == sorted(
        appsets.object_key(o) for o in docs
    )


def addon_label(addon: str) -> str:
    return LABEL_OF_ADDON.get(addon, f"enable_{addon.replace('-', '_')}")


def test_every_addon_selects_on_its_own_enable_label(objects):
    by_name = {a["metadata"]["name"]: a for a in appsets.application_sets(objects)}
    for addon in ADDONS:
        keys = appsets.selector_label_keys(by_name[addon]["spec"]["generators"])
        # Per-environment settings (kube-prometheus-stack's retention) select on the environment too.
        assert keys - {"environment"} == {addon_label(addon)}, addon


@pytest.mark.parametrize("stack", STACKS)
def test_switching_an_addon_label_off_removes_only_that_addon(objects, stack):
    cluster = appsets.contract_cluster(stack)
    for addon in ADDONS:
        assert cluster.labels[addon_label(addon)] in {"true", "false"}, addon
        off = appsets.Cluster(
            cluster.name, cluster.server, {**cluster.labels, addon_label(addon): "false"}, cluster.annotations
        )
        generated = {
            a["metadata"]["name"]
            for s in appsets.application_sets(objects)
            for a in appsets.applications(s, off)
        }
        assert f"{addon}-{stack}" not in generated, addon
        assert {f"{other}-{stack}" for other in ADDONS if cluster.labels[addon_label(other)] == "true"} - {
            f"{addon}-{stack}"
        } <= generated
