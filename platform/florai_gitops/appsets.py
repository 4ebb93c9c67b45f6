"""What Argo CD generates from argocd/ for one stack's cluster, computed offline.

The root Application syncs argocd/ as a plain directory; its ApplicationSets use the cluster
generator on the GitOps-bridge Secret that the Pulumi bootstrap writes. This module reads that
Secret from the committed plan (platform/plans/<stack>.json), evaluates the selectors and renders
the templates the way the ApplicationSet controller does (fasttemplate, ``{{key}}``), so tests and
reviewers see the Applications each environment gets without a cluster.

    python -m florai_gitops.appsets --stack prod     # the Applications prod's Argo CD creates
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from florai_infra import names
from florai_infra.components.gitops import IN_CLUSTER_SERVER
from florai_infra.offline.plan import Plan

REPO_ROOT = Path(__file__).resolve().parents[2]
ARGOCD_DIR = REPO_ROOT / names.GITOPS_ROOT_PATH
PLANS_DIR = REPO_ROOT / "platform" / "plans"
CLUSTER_SECRET_TYPE = "kubernetes:core/v1:Secret"
CLUSTER_SECRET_NAME = "gitops-cluster"
# Argo CD's directory source reads only these suffixes; everything else (README.md, Kustomization) is ignored.
DIRECTORY_SUFFIXES = (".yaml", ".yml", ".json")
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")


@dataclass(frozen=True)
class Cluster:
    """The cluster Secret as the cluster generator sees it."""

    name: str
    server: str
    labels: dict[str, str]
    annotations: dict[str, str]

    def params(self) -> dict[str, str]:
        out = {"name": self.name, "nameNormalized": self.name, "server": self.server}
        out.update({f"metadata.labels.{k}": v for k, v in self.labels.items()})
        out.update({f"metadata.annotations.{k}": v for k, v in self.annotations.items()})
        return out


def cluster_from_plan(plan: Plan) -> Cluster:
    # stringData (cluster name, server) is recorded masked; the program writes these two values.
    meta = plan.one(CLUSTER_SECRET_TYPE, CLUSTER_SECRET_NAME).inputs["metadata"]
    return Cluster(
        name=str(meta["annotations"]["aws_cluster_name"]),
        server=IN_CLUSTER_SERVER,
        labels={k: str(v) for k, v in meta.get("labels", {}).items()},
        annotations={k: str(v) for k, v in meta.get("annotations", {}).items()},
    )


def load_cluster(stack: str, plans_dir: Path = PLANS_DIR) -> Cluster:
    return cluster_from_plan(Plan.loads((plans_dir / f"{stack}.json").read_text()))


# --- reading argocd/ ------------------------------------------------------------------


def directory_files(root: Path = ARGOCD_DIR) -> list[Path]:
    """The files an Argo CD directory source with ``recurse: true`` reads, sorted."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in DIRECTORY_SUFFIXES)


def directory_objects(root: Path = ARGOCD_DIR) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for path in directory_files(root):
        text = path.read_text()
        docs = [json.loads(text)] if path.suffix == ".json" else list(yaml.safe_load_all(text))
        objects.extend(d for d in docs if d)
    return objects


def kustomize_objects(root: Path = ARGOCD_DIR) -> list[dict[str, Any]]:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(root)], check=True, capture_output=True, text=True
    ).stdout
    return [d for d in yaml.safe_load_all(rendered) if d]


def object_key(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata", {})
    return obj["kind"], meta.get("namespace", ""), meta["name"]


# --- the ApplicationSet controller, offline --------------------------------------------


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels + matchExpressions) against a label set."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }.get(op)
        if ok is None:
            raise ValueError(f"unknown selector operator {op!r}")
        if not ok:
            return False
    return True


def generator_params(generator: dict[str, Any], cluster: Cluster) -> list[dict[str, str]]:
    """Parameter sets of one generator (clusters, list, matrix) for a single-cluster Argo CD."""
    if "clusters" in generator:
        spec = generator["clusters"] or {}
        if not selector_matches(spec.get("selector"), cluster.labels):
            return []
        values = {f"values.{k}": str(v) for k, v in spec.get("values", {}).items()}
        return [{**cluster.params(), **values}]
    if "list" in generator:
        return [{str(k): str(v) for k, v in e.items()} for e in generator["list"]["elements"]]
    if "matrix" in generator:
        children = [generator_params(g, cluster) for g in generator["matrix"]["generators"]]
        return [{k: v for p in combo for k, v in p.items()} for combo in itertools.product(*children)]
    raise ValueError(f"generator not supported offline: {sorted(generator)}")


def render(value: Any, params: dict[str, str]) -> Any:
    """fasttemplate substitution in every string; unknown keys stay as written (as Argo CD leaves them)."""
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: params.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {k: render(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, params) for v in value]
    return value


def applications(appset: dict[str, Any], cluster: Cluster) -> list[dict[str, Any]]:
    if appset["spec"].get("goTemplate"):
        raise ValueError(f"{appset['metadata']['name']}: goTemplate is not rendered offline")
    out = []
    for generator in appset["spec"]["generators"]:
        for params in generator_params(generator, cluster):
            template = render(appset["spec"]["template"], params)
            out.append(
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Application",
                    "metadata": {**template["metadata"], "namespace": names.NAMESPACE_ARGOCD},
                    "spec": template["spec"],
                }
            )
    return out


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def placeholders(value: Any) -> set[str]:
    """The ApplicationSet parameters a value reads; ``{{ .x }}`` Go templates (an ExternalSecret's own)
    are not parameters: fasttemplate leaves an unknown tag as written."""
    found = {m.group(1) for s in strings(value) for m in PLACEHOLDER.finditer(s)}
    return {p for p in found if not p.startswith(".")}


def selector_label_keys(generators: Iterable[dict[str, Any]]) -> set[str]:
    keys: set[str] = set()
    for g in generators:
        if "clusters" in g:
            selector = (g["clusters"] or {}).get("selector") or {}
            keys |= set(selector.get("matchLabels", {}))
            keys |= {e["key"] for e in selector.get("matchExpressions", [])}
        if "matrix" in g:
            keys |= selector_label_keys(g["matrix"]["generators"])
    return keys


def application_sets(objects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == "ApplicationSet"]


def bridge_annotations() -> frozenset[str]:
    """Every annotation the bootstrap's cluster Secret carries by contract (florai_infra.names): the
    BRIDGE_* names and the IRSA role ARN of each service account the names module declares."""
    declared = vars(names)
    constants = {v for k, v in declared.items() if k.startswith("BRIDGE_") and isinstance(v, str)}
    accounts = {v for v in declared.values() if isinstance(v, names.ServiceAccount)}
    return frozenset(constants | {names.role_arn_annotation(a) for a in accounts})


# Add-on labels the bootstrap's cluster Secret carries by contract (issue 15 adds them to the program);
# tests/gitops/test_bridge.py fails, naming them, until the committed plans carry each one.
CONTRACT_ADDON_LABELS = (
    "enable_external_dns",
    "enable_cloudwatch_exporter",
    "enable_otel_collector",
    "enable_tempo",
    "enable_fluent_bit",
)


def contract_cluster(stack: str) -> Cluster:
    """The stack's cluster Secret as the contract says it will be: the plan's labels and annotations,
    plus any contract label ("true") or annotation (a ``bridge-<name>`` value) the plan lacks so far."""
    cluster = load_cluster(stack)
    labels = {**{label: "true" for label in CONTRACT_ADDON_LABELS}, **cluster.labels}
    annotations = {**{a: f"bridge-{a}" for a in bridge_annotations()}, **cluster.annotations}
    return Cluster(cluster.name, cluster.server, labels, annotations)


def without_annotations(cluster: Cluster) -> Cluster:
    """The cluster Secret with no annotations: bridge placeholders stay as written in the render."""
    return Cluster(cluster.name, cluster.server, cluster.labels, {})


def overlay_application(env: str, root: Path = REPO_ROOT, cluster: Cluster | None = None) -> dict[str, Any]:
    """The Application that syncs apps/deploy/overlays/<env>, as that stack's Argo CD generates it from
    root/argocd (by default from a cluster Secret without annotations: every bridge value stays a
    ``{{metadata.annotations.<name>}}`` placeholder, as git holds it)."""
    path = f"apps/deploy/overlays/{env}"
    found = [app for app in deploy_applications(env, root, cluster) if app["spec"]["source"]["path"] == path]
    if len(found) != 1:
        raise ValueError(f"expected one Application syncing {path}, found {len(found)}")
    return found[0]


def deploy_applications(
    env: str, root: Path = REPO_ROOT, cluster: Cluster | None = None
) -> list[dict[str, Any]]:
    """Every Application of the stack that syncs a folder of apps/deploy (the API's overlay, the web
    UI's overlay, the cluster-wide objects), sorted by path; bridge values as in overlay_application."""
    cluster = cluster or without_annotations(load_cluster(env))
    objects = directory_objects(root / names.GITOPS_ROOT_PATH)
    found = [
        app
        for appset in application_sets(objects)
        for app in applications(appset, cluster)
        if app["spec"]["source"].get("path", "").startswith("apps/deploy/")
    ]
    return sorted(found, key=lambda app: app["spec"]["source"]["path"])


def stack_applications(
    stack: str, root: Path = ARGOCD_DIR, cluster: Cluster | None = None
) -> list[dict[str, Any]]:
    """Every Application the stack's Argo CD generates from argocd/, sorted by name (by default from
    the committed plan's cluster Secret)."""
    cluster = cluster or load_cluster(stack)
    apps = [a for s in application_sets(directory_objects(root)) for a in applications(s, cluster)]
    return sorted(apps, key=lambda a: a["metadata"]["name"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m florai_gitops.appsets", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--stack", required=True, help="dev, staging or prod (reads platform/plans/<stack>.json)"
    )
    args = parser.parse_args(argv)
    yaml.safe_dump_all(stack_applications(args.stack), sys.stdout, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
