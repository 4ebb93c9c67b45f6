"""Offline validation of every Kubernetes object the repo delivers.

- built-in kinds: kubernetes-validate, strict, at the cluster's Kubernetes version (Pulumi.<env>.yaml);
- custom resources with a packaged upstream schema (Argo CD, Argo Rollouts, prometheus-operator):
  the @kubernetes-models validators (crd-schemas/, `npm ci` on first use);
- ExternalSecret, ClusterSecretStore, ScaledObject (no packaged schema): the fields that matter;
- checkov (kubernetes and dockerfile frameworks) from its own pinned tool venv.

    python -m florai_gitops.validate   # validates all environments and the argocd/alerts/dashboards YAML
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

from florai_gitops import appsets, manifests

REPO_ROOT = manifests.REPO_ROOT
CRD_SCHEMAS_DIR = Path(__file__).resolve().parent / "crd-schemas"
CRD_VALIDATOR = CRD_SCHEMAS_DIR / "validate.mjs"
CHECKOV_REQUIREMENTS = Path(__file__).resolve().parent / "checkov-requirements.txt"
# checkov's pins clash with requirements.lock (boto3, ...), so it lives in its own venv.
CHECKOV_VENV = REPO_ROOT / ".venv" / "tools" / "checkov"
CHECKOV_BIN = CHECKOV_VENV / "bin" / "checkov"
DOCKERFILE = REPO_ROOT / "apps" / "Dockerfile"
# Every image the image workflow builds: the API's (CPU and CUDA from one file) and the web UI's.
DOCKERFILES = (DOCKERFILE, REPO_ROOT / "apps" / "ui" / "Dockerfile")
# Folders whose YAML (or kustomizations) Argo CD delivers besides the app overlays.
DELIVERY_DIRS = ("argocd", "alerts", "dashboards")
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

# apiVersion/kind -> the @kubernetes-models class that carries its upstream CRD schema.
PACKAGED_CRDS = frozenset(
    {
        "argoproj.io/v1alpha1/Application",
        "argoproj.io/v1alpha1/ApplicationSet",
        "argoproj.io/v1alpha1/AppProject",
        "argoproj.io/v1alpha1/Rollout",
        "argoproj.io/v1alpha1/AnalysisTemplate",
        "monitoring.coreos.com/v1/ServiceMonitor",
        "monitoring.coreos.com/v1/PodMonitor",
        "monitoring.coreos.com/v1/Probe",
        "monitoring.coreos.com/v1/PrometheusRule",
    }
)
EXTERNAL_SECRETS_API = "external-secrets.io/v1"
KEDA_API = "keda.sh/v1alpha1"
SECRET_STORE_KINDS = ("SecretStore", "ClusterSecretStore")
KEDA_TRIGGER_FIELDS = {"prometheus": ("serverAddress", "query", "threshold"), "cpu": ("value",)}
PLACEHOLDER = "set-by-bridge"


def type_key(obj: dict[str, Any]) -> str:
    return f"{obj.get('apiVersion')}/{obj.get('kind')}"


def describe(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata", {})
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')} {where}{meta.get('name')}"


def kubernetes_version(env: str) -> str:
    """The cluster version of ``env`` (florai:kubernetesVersion) as kubernetes-validate wants it."""
    config = yaml.safe_load((REPO_ROOT / f"Pulumi.{env}.yaml").read_text())["config"]
    return f"{config['florai:kubernetesVersion']}.0"


# --- built-in kinds ---------------------------------------------------------------------------
def builtin_schema_errors(objects: Iterable[dict[str, Any]], version: str) -> tuple[list[str], list[dict]]:
    """Strict kubernetes-validate errors, and the objects it has no schema for (custom resources)."""
    errors, custom = [], []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            custom.append(obj)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{describe(obj)}: {exc.message} at {'.'.join(map(str, exc.path))}")
    return errors, custom


# --- custom resources with a packaged schema ------------------------------------------------
def ensure_crd_schemas() -> None:
    """`npm ci` the pinned schema packages into crd-schemas/node_modules when missing."""
    if (CRD_SCHEMAS_DIR / "node_modules" / "@kubernetes-models").is_dir():
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=CRD_SCHEMAS_DIR,
        check=True,
        capture_output=True,
    )


def crd_schema_errors(objects: Sequence[dict[str, Any]]) -> list[str]:
    """Upstream CRD schema errors of Argo CD, Argo Rollouts and prometheus-operator objects."""
    if not objects:
        return []
    ensure_crd_schemas()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as tmp:
        json.dump(list(objects), tmp)
    try:
        done = subprocess.run(["node", str(CRD_VALIDATOR), tmp.name], capture_output=True, text=True)
    finally:
        os.unlink(tmp.name)
    if done.returncode != 0:
        raise RuntimeError(f"CRD validator failed:\n{done.stderr}")
    return [f"{describe(objects[e['index']])}: {e['error']}" for e in json.loads(done.stdout)]


# --- custom resources without a packaged schema: the fields that matter ----------------------
def _missing(value: Any) -> bool:
    return value in (None, "", PLACEHOLDER)


def secret_store_errors(obj: dict[str, Any]) -> list[str]:
    aws = obj.get("spec", {}).get("provider", {}).get("aws", {})
    errors = []
    if aws.get("service") not in ("SecretsManager", "ParameterStore"):
        errors.append("spec.provider.aws.service must be SecretsManager or ParameterStore")
    if _missing(aws.get("region")):
        errors.append("spec.provider.aws.region is not set")
    return errors


def external_secret_errors(obj: dict[str, Any]) -> list[str]:
    spec = obj.get("spec", {})
    errors = []
    store = spec.get("secretStoreRef", {})
    if store.get("kind") not in SECRET_STORE_KINDS or _missing(store.get("name")):
        errors.append("spec.secretStoreRef needs a name and kind SecretStore/ClusterSecretStore")
    if _missing(spec.get("target", {}).get("name")):
        errors.append("spec.target.name is not set")
    entries = spec.get("data", []) + spec.get("dataFrom", [])
    if not entries:
        errors.append("spec.data/dataFrom is empty")
    for i, entry in enumerate(spec.get("data", [])):
        if _missing(entry.get("secretKey")) or _missing(entry.get("remoteRef", {}).get("key")):
            errors.append(f"spec.data[{i}] needs secretKey and remoteRef.key")
    template = spec.get("target", {}).get("template", {})
    if template and template.get("engineVersion", "v2") != "v2":
        errors.append("spec.target.template.engineVersion must be v2")
    for key, text in template.get("data", {}).items():
        if PLACEHOLDER in str(text):
            errors.append(f"spec.target.template.data.{key} still holds {PLACEHOLDER}")
    return errors


def scaled_object_errors(obj: dict[str, Any]) -> list[str]:
    spec = obj.get("spec", {})
    errors = []
    target = spec.get("scaleTargetRef", {})
    if _missing(target.get("name")) or target.get("kind") not in ("Deployment", "Rollout", "StatefulSet"):
        errors.append("spec.scaleTargetRef needs a name and a Deployment/Rollout/StatefulSet kind")
    low, high = spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100)
    if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high):
        errors.append(f"replica counts must be integers with 0 <= min <= max, got {low}..{high}")
    triggers = spec.get("triggers", [])
    if not triggers:
        errors.append("spec.triggers is empty")
    for i, trigger in enumerate(triggers):
        required = KEDA_TRIGGER_FIELDS.get(trigger.get("type"))
        if required is None:
            errors.append(f"spec.triggers[{i}].type {trigger.get('type')!r} is not one this repo checks")
            continue
        metadata = trigger.get("metadata", {})
        for field in required:
            value = metadata.get(field)
            if _missing(value) or not isinstance(value, str):
                errors.append(f"spec.triggers[{i}].metadata.{field} must be a non-empty string")
        for field in ("threshold", "value"):
            if field in metadata and not str(metadata[field]).replace(".", "", 1).isdigit():
                errors.append(
                    f"spec.triggers[{i}].metadata.{field} must be a number, got {metadata[field]!r}"
                )
        if trigger["type"] == "cpu" and trigger.get("metricType") not in ("Utilization", "AverageValue"):
            errors.append(f"spec.triggers[{i}].metricType must be Utilization or AverageValue")
    return errors


FIELD_CHECKS = {
    f"{EXTERNAL_SECRETS_API}/ExternalSecret": external_secret_errors,
    f"{EXTERNAL_SECRETS_API}/ClusterSecretStore": secret_store_errors,
    f"{EXTERNAL_SECRETS_API}/SecretStore": secret_store_errors,
    f"{KEDA_API}/ScaledObject": scaled_object_errors,
}


def custom_resource_errors(objects: Sequence[dict[str, Any]]) -> list[str]:
    """Every custom resource is checked one way or the other; an unknown type is an error."""
    packaged = [o for o in objects if type_key(o) in PACKAGED_CRDS]
    errors = crd_schema_errors(packaged)
    for obj in objects:
        key = type_key(obj)
        if key in PACKAGED_CRDS:
            continue
        check = FIELD_CHECKS.get(key)
        if check is None:
            errors.append(f"{describe(obj)}: no schema or field check for {key}")
        else:
            errors += [f"{describe(obj)}: {e}" for e in check(obj)]
    return errors


def schema_errors(objects: Sequence[dict[str, Any]], version: str) -> list[str]:
    builtin, custom = builtin_schema_errors(objects, version)
    return builtin + custom_resource_errors(custom)


# --- the other delivery folders -------------------------------------------------------------
def _objects_in(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict) and "apiVersion" in d and "kind" in d]


def delivery_objects(root: Path = REPO_ROOT) -> dict[str, list[dict[str, Any]]]:
    """Objects under argocd/, alerts/, dashboards/: rendered kustomizations, plus plain YAML outside them."""
    found: dict[str, list[dict[str, Any]]] = {}
    # A folder an Application syncs renders with that Application's kustomize patches (prod's).
    synced = {
        a["spec"]["source"]["path"]: a["spec"]["source"]
        for a in appsets.stack_applications("prod")
        if "path" in a["spec"]["source"]
    }
    for top in DELIVERY_DIRS:
        base = root / top
        if not base.is_dir():
            continue
        kustomized = sorted({p.parent for name in KUSTOMIZATION_FILES for p in base.rglob(name)})
        for folder in kustomized:
            # A nested kustomization is rendered by its parent; render only the outermost ones.
            if not any(parent in kustomized for parent in folder.parents):
                relative = str(folder.relative_to(root))
                source = synced.get(relative)
                found[relative] = (
                    manifests.kustomize_application(source, root) if source else manifests.kustomize(folder)
                )
        for path in sorted([*base.rglob("*.yaml"), *base.rglob("*.yml")]):
            if path.name in KUSTOMIZATION_FILES or any(k in path.parents for k in kustomized):
                continue
            objects = _objects_in(path.read_text())
            if objects:
                found[str(path.relative_to(root))] = objects
    return found


# --- checkov --------------------------------------------------------------------------------
def ensure_checkov() -> Path:
    """The checkov binary of the pinned tool venv, created from checkov-requirements.txt if missing."""
    if not CHECKOV_BIN.exists():
        subprocess.run([sys.executable, "-m", "venv", str(CHECKOV_VENV)], check=True)
        subprocess.run(
            [
                str(CHECKOV_VENV / "bin" / "pip"),
                "install",
                "--quiet",
                "--no-deps",
                "-r",
                str(CHECKOV_REQUIREMENTS),
            ],
            check=True,
        )
    return CHECKOV_BIN


def checkov_view(obj: dict[str, Any]) -> dict[str, Any]:
    """checkov knows no Rollout: scan its pod template as the Deployment it replaces."""
    if type_key(obj) != "argoproj.io/v1alpha1/Rollout":
        return obj
    spec = {k: v for k, v in obj["spec"].items() if k != "strategy"}
    return {**obj, "apiVersion": "apps/v1", "kind": "Deployment", "spec": spec}


def run_checkov(framework: str, target: Path) -> dict[str, Any]:
    """checkov's JSON report for a file or folder (BC_SKIP_MAPPING keeps it offline)."""
    flag = "-d" if target.is_dir() else "-f"
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "WARNING"}
    done = subprocess.run(
        [str(ensure_checkov()), flag, str(target), "--framework", framework, "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed ({done.returncode}):\n{done.stderr[-2000:]}")
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    reports = report if isinstance(report, list) else [report]
    merged: dict[str, Any] = {"passed": [], "failed": [], "skipped": [], "parsing_errors": []}
    for rep in reports:
        results = rep.get("results", {})
        merged["passed"] += results.get("passed_checks", [])
        merged["failed"] += results.get("failed_checks", [])
        merged["skipped"] += results.get("skipped_checks", [])
        merged["parsing_errors"] += results.get("parsing_errors", [])
    return merged


def checkov_manifests(named_objects: dict[str, Sequence[dict[str, Any]]]) -> dict[str, Any]:
    """One checkov run over every named set of objects (one file each)."""
    with tempfile.TemporaryDirectory(prefix="florai-checkov-") as tmp:
        for name, objects in named_objects.items():
            safe = name.replace("/", "__")
            Path(tmp, f"{safe}.yaml").write_text(yaml.safe_dump_all([checkov_view(o) for o in objects]))
        return run_checkov("kubernetes", Path(tmp))


def main() -> int:
    failures: list[str] = []
    for env in manifests.ENVIRONMENTS:
        objects = manifests.rendered_everything(env)
        errors = schema_errors(objects, kubernetes_version(env))
        print(f"{env}: {len(objects)} objects, {len(errors)} schema errors")
        failures += errors
    extra = delivery_objects()
    version = kubernetes_version("prod")
    for name, objects in extra.items():
        errors = schema_errors(objects, version)
        print(f"{name}: {len(objects)} objects, {len(errors)} schema errors")
        failures += errors
    named = {f"apps-{env}": manifests.rendered_everything(env) for env in manifests.ENVIRONMENTS} | extra
    report = checkov_manifests(named)
    print(
        f"checkov kubernetes: {len(report['passed'])} passed, {len(report['failed'])} failed, "
        f"{len(report['skipped'])} skipped"
    )
    failures += [f"checkov {c['check_id']} {c['resource']}: {c['check_name']}" for c in report["failed"]]
    for dockerfile in DOCKERFILES:
        docker = run_checkov("dockerfile", dockerfile)
        print(
            f"checkov {dockerfile.relative_to(REPO_ROOT)}: {len(docker['passed'])} passed, "
            f"{len(docker['failed'])} failed"
        )
        failures += [f"checkov {c['check_id']} {c['file_path']}: {c['check_name']}" for c in docker["failed"]]
    for line in failures:
        print(f"  FAIL {line}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
