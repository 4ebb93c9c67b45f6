"""Stack values reach the apps only through the GitOps bridge (issue 16, finding 1).

git holds no stack value: the overlays and the ApplicationSets name each value by its cluster-Secret
annotation, and Argo CD substitutes it from the Secret the Pulumi bootstrap writes. So nothing the
offline engine invents (its account, ids, ARNs, endpoints) may appear in anything Argo CD deploys.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import pytest

from florai_gitops import appsets, manifests
from florai_infra import names
from florai_infra.offline import engine
from florai_infra.offline.plan import Plan

ENVS = manifests.ENVIRONMENTS
# A run of hex digits: the digests the offline engine puts into ids, ARNs and endpoints.
INVENTED_DIGEST = re.compile(r"[0-9a-fA-F]{6,}")
ROLE_ARN = "eks.amazonaws.com/role-arn"


def strings(value: Any) -> set[str]:
    return set(appsets.strings(value))


@functools.cache
def invented_values() -> frozenset[str]:
    """What the offline engine makes up: the account and every plan value carrying it or a digest."""
    found = {engine.ACCOUNT_ID}
    for env in ENVS:
        plan = Plan.loads((appsets.PLANS_DIR / f"{env}.json").read_text())
        cluster = appsets.cluster_from_plan(plan)
        for value in strings(plan.outputs) | set(cluster.annotations.values()):
            if engine.ACCOUNT_ID in value or INVENTED_DIGEST.search(value):
                found.add(value)
    return frozenset(found)


def sentinel(annotation: str) -> str:
    return f"bridge-value-of-{annotation}"


def bridge_cluster(env: str) -> appsets.Cluster:
    """The stack's cluster Secret with a recognisable value in every contract annotation."""
    cluster = appsets.load_cluster(env)
    return appsets.Cluster(
        cluster.name, cluster.server, cluster.labels, {a: sentinel(a) for a in appsets.bridge_annotations()}
    )


@functools.cache
def delivered(env: str) -> tuple[dict[str, Any], ...]:
    """The overlay as Argo CD syncs it on a cluster whose Secret holds the sentinels."""
    app = appsets.overlay_application(env, cluster=bridge_cluster(env))
    return tuple(manifests.kustomize_application(app["spec"]["source"], manifests.REPO_ROOT))


def one(objects, kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def test_the_offline_engine_values_are_found_in_the_plans():
    """The detector itself: the plans hold the engine's account, ARNs, ids and endpoints."""
    invented = invented_values()
    assert any(v.startswith("arn:aws:wafv2:") for v in invented)
    assert any(v.startswith("vpc-") for v in invented)
    assert any(v.endswith(".rds.amazonaws.com:5432") for v in invented)
    assert "us-east-1" not in invented and "florai-prod" not in invented


@pytest.mark.parametrize("env", ENVS)
def test_no_offline_engine_value_in_the_rendered_environment(env):
    text = manifests.to_yaml(manifests.rendered(env))
    assert [v for v in invented_values() if v in text] == []


def test_no_offline_engine_value_in_anything_else_argo_cd_deploys():
    """argocd/ itself, and every other path its Applications sync (alerts, dashboards)."""
    texts = [json.dumps(appsets.directory_objects())]
    for env in ENVS:
        for app in appsets.stack_applications(env):
            source = app["spec"]["source"]
            if "path" in source and not source["path"].startswith("apps/deploy/"):
                texts.append(manifests.to_yaml(manifests.kustomize(appsets.REPO_ROOT / source["path"])))
    text = "\n".join(texts)
    assert [v for v in invented_values() if v in text] == []


def test_application_sets_read_only_contract_annotations():
    for appset in appsets.application_sets(appsets.directory_objects()):
        for key in appsets.placeholders(appset["spec"]["template"]):
            if key.startswith("metadata.annotations."):
                assert key.removeprefix("metadata.annotations.") in appsets.bridge_annotations(), (
                    appset["metadata"]["name"],
                    key,
                )


def test_the_plans_carry_every_label_and_annotation_the_application_sets_read():
    """The program's half of the contract: on this branch alone it names what the plans still lack
    (issue 15 adds them); on the merge it passes."""
    read_annotations, read_labels = set(), set()
    for appset in appsets.application_sets(appsets.directory_objects()):
        for key in appsets.placeholders(appset["spec"]["template"]):
            if key.startswith("metadata.annotations."):
                read_annotations.add(key.removeprefix("metadata.annotations."))
            elif key.startswith("metadata.labels."):
                read_labels.add(key.removeprefix("metadata.labels."))
        read_labels |= appsets.selector_label_keys(appset["spec"]["generators"])
    missing = {}
    for env in ENVS:
        cluster = appsets.load_cluster(env)
        lacking = sorted((read_annotations - set(cluster.annotations)) | (read_labels - set(cluster.labels)))
        if lacking:
            missing[env] = lacking
    assert missing == {}, "the bootstrap's cluster Secret must carry these (platform/plans/<env>.json)"


def test_the_plans_write_nothing_outside_the_contract():
    for env in ENVS:
        assert set(appsets.load_cluster(env).annotations) <= appsets.bridge_annotations(), env


def test_dev_staging_and_prod_apps_take_the_same_bridge_values():
    apps = [
        a
        for a in appsets.application_sets(appsets.directory_objects())
        if a["metadata"]["name"].startswith("florai-apps")
    ]
    kustomize = [a["spec"]["template"]["spec"]["source"]["kustomize"] for a in apps]
    assert len(kustomize) == 2 and kustomize[0] == kustomize[1]


@pytest.mark.parametrize("env", ENVS)
def test_every_bridge_value_is_substituted_and_no_placeholder_survives(env):
    text = manifests.to_yaml(delivered(env))
    assert "{{metadata." not in text and "set-by-bridge" not in text


@pytest.mark.parametrize("env", ENVS)
def test_app_settings_come_from_the_bridge(env):
    objects = delivered(env)
    account = one(objects, "ServiceAccount", names.INFERENCE.name)
    assert account["metadata"]["annotations"][ROLE_ARN] == sentinel(
        names.role_arn_annotation(names.INFERENCE)
    )
    exporter = one(objects, "ServiceAccount", names.BACKUP_EXPORTER.name)
    assert exporter["metadata"]["annotations"][ROLE_ARN] == sentinel(
        names.role_arn_annotation(names.BACKUP_EXPORTER)
    )
    ingress = one(objects, "Ingress", "florai")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/wafv2-acl-arn"] == sentinel(names.BRIDGE_WAF_ACL_ARN)
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == sentinel(names.BRIDGE_CERTIFICATE_ARN)
    host = sentinel(names.BRIDGE_API_HOSTNAME)
    assert ingress["spec"]["tls"][0]["hosts"] == [host] and ingress["spec"]["rules"][0]["host"] == host
    probe = one(objects, "Probe", "florai-api")
    assert probe["spec"]["targets"]["staticConfig"]["static"] == [f"{host}:443"]
    data = one(objects, "ConfigMap", "florai-config")["data"]
    bucket = sentinel(names.BRIDGE_MODEL_BUCKET_NAME)
    assert data["AWS_REGION"] == sentinel(names.BRIDGE_AWS_REGION)
    assert data["FLORAI_MODELS_DIR"] == f"s3://{bucket}/models"
    assert data["FLORAI_IMAGE_STORE_URI"].startswith(f"s3://{bucket}/")
    # The app's sweep of kept images uses the same days as the bucket's lifecycle rule.
    assert data["FLORAI_IMAGE_RETENTION_DAYS"] == sentinel(names.BRIDGE_IMAGE_RETENTION_DAYS)
    # X-Forwarded-For is trusted from the VPC (the ALB) only: rate limits see the real client.
    assert data["FORWARDED_ALLOW_IPS"] == sentinel(names.BRIDGE_VPC_CIDR)
    store = one(objects, "ClusterSecretStore", "florai-aws-secrets-manager")["spec"]["provider"]["aws"]
    assert store["region"] == sentinel(names.BRIDGE_AWS_REGION)
    database = one(objects, "ExternalSecret", "florai-database")["spec"]
    assert {d["remoteRef"]["key"] for d in database["data"]} == {sentinel(names.BRIDGE_DATABASE_SECRET_ARN)}
    url = database["target"]["template"]["data"]["DATABASE_URL"]
    assert f"@{sentinel(names.BRIDGE_DATABASE_ENDPOINT)}/" in url and "{{ .password | urlquery }}" in url
    redis = one(objects, "ExternalSecret", "florai-redis")["spec"]
    assert {d["remoteRef"]["key"] for d in redis["data"]} == {sentinel(names.BRIDGE_REDIS_AUTH_SECRET_ARN)}
    assert (
        f"@{sentinel(names.BRIDGE_REDIS_ENDPOINT)}:6379/" in redis["target"]["template"]["data"]["REDIS_URL"]
    )
    for policy, path in (
        ("allow-ingress-from-alb", "ingress"),
        ("allow-egress-database-and-cache", "egress"),
    ):
        rule = one(objects, "NetworkPolicy", policy)["spec"][path][0]
        peer = rule["from" if path == "ingress" else "to"][0]
        assert peer["ipBlock"]["cidr"] == sentinel(names.BRIDGE_VPC_CIDR), policy
    images = {
        c["image"]
        for o in objects
        if o["kind"] in ("Deployment", "Rollout")
        for c in o["spec"]["template"]["spec"]["containers"]
    }
    assert images and {i.partition("@")[0] for i in images} == {sentinel(names.BRIDGE_ECR_REPOSITORY_URL)}


@pytest.mark.parametrize("env", ENVS)
def test_names_follow_the_program_naming_rules(env):
    """What is not a stack output but a name the program derives from the environment."""
    objects = delivered(env)
    ingress = one(objects, "Ingress", "florai")
    assert ingress["metadata"]["annotations"][
        "alb.ingress.kubernetes.io/group.name"
    ] == names.resource_prefix(env)
    keys = one(objects, "ExternalSecret", "florai-app-keys")["spec"]["data"]
    assert {d["remoteRef"]["key"] for d in keys} == {names.app_signing_keys_secret(env)}
    plan = Plan.loads((appsets.PLANS_DIR / f"{env}.json").read_text())
    (database,) = plan.by_type("aws:rds/instance:Instance")
    exporter = one(objects, "Deployment", names.BACKUP_EXPORTER.name)
    env_vars = {
        e["name"]: e.get("value") for e in exporter["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert (
        env_vars["FLORAI_BACKUP_DB_INSTANCES"] == database.inputs["identifier"] == names.resource_prefix(env)
    )


def test_argo_cd_substitution_fills_the_plans_own_values():
    """The same render with the committed plan's cluster Secret: its values land where the app reads them."""
    cluster = appsets.load_cluster("prod")
    app = appsets.overlay_application("prod", cluster=cluster)
    objects = manifests.kustomize_application(app["spec"]["source"], manifests.REPO_ROOT)
    account = one(objects, "ServiceAccount", names.INFERENCE.name)
    role = cluster.annotations[names.role_arn_annotation(names.INFERENCE)]
    assert account["metadata"]["annotations"][ROLE_ARN] == role


def test_no_offline_engine_value_in_the_runbooks():
    """On-call pastes these commands into a real account: names come from the rendered manifests, the
    program's naming rules or the cluster Secret, never from the offline plan."""
    runbooks = appsets.REPO_ROOT / "runbooks"
    text = "\n".join(p.read_text() for p in sorted(runbooks.rglob("*.md")))
    assert text and [v for v in invented_values() if v in text] == []


def app_applications(env: str, cluster: appsets.Cluster) -> list[dict[str, Any]]:
    """Every Application of the stack that syncs a folder of apps/deploy (the API, the web UI, the
    cluster-wide objects)."""
    apps = appsets.deploy_applications(env, cluster=cluster)
    assert {a["spec"]["source"]["path"] for a in apps} >= {
        f"apps/deploy/overlays/{env}",
        f"apps/deploy/ui/overlays/{env}",
    }
    return apps


@pytest.mark.parametrize("env", ENVS)
def test_every_app_overlay_takes_its_stack_values_only_from_the_bridge(env):
    """The web UI's Application too: its image registry, host, WAF, certificate and VPC CIDR are the
    cluster Secret's, no placeholder survives, and the plan's invented values appear nowhere."""
    for app in app_applications(env, bridge_cluster(env)):
        objects = manifests.kustomize_application(app["spec"]["source"], manifests.REPO_ROOT)
        text = manifests.to_yaml(objects)
        assert "{{metadata." not in text and "set-by-bridge" not in text, app["metadata"]["name"]
        assert [v for v in invented_values() if v in text] == [], app["metadata"]["name"]
    ui_app = next(
        a for a in app_applications(env, bridge_cluster(env)) if "/ui/" in a["spec"]["source"]["path"]
    )
    ui = manifests.kustomize_application(ui_app["spec"]["source"], manifests.REPO_ROOT)
    images = {
        c["image"]
        for o in ui
        if o["kind"] in ("Deployment", "Rollout")
        for c in o["spec"]["template"]["spec"]["containers"]
    }
    assert {i.partition("@")[0] for i in images} == {sentinel(names.BRIDGE_UI_ECR_REPOSITORY_URL)}
    assert all("@sha256:" in i for i in images), "the overlay's digest survives the registry override"
    ingress = one(ui, "Ingress", "florai-ui")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/wafv2-acl-arn"] == sentinel(names.BRIDGE_WAF_ACL_ARN)
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == sentinel(names.BRIDGE_CERTIFICATE_ARN)
    assert ingress["spec"]["rules"][0]["host"] == sentinel(names.BRIDGE_API_HOSTNAME)
    policy = one(ui, "NetworkPolicy", "florai-ui-allow-ingress-from-alb")
    assert policy["spec"]["ingress"][0]["from"][0]["ipBlock"]["cidr"] == sentinel(names.BRIDGE_VPC_CIDR)
