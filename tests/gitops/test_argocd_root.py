"""argocd/ as the root Application syncs it: one set of objects, whichever way it is rendered."""

from __future__ import annotations

import json

import pytest

from florai_gitops import appsets
from florai_infra import names
from florai_infra.offline.plan import Plan

STACKS = ("dev", "staging", "prod")
ROOT_APP_TYPE = "kubernetes:argoproj.io/v1alpha1:Application"


@pytest.fixture(scope="module")
def directory_objects():
    return appsets.directory_objects()


def test_kustomize_and_directory_sources_render_the_same_objects(directory_objects):
    by_kustomize = sorted(appsets.object_key(o) for o in appsets.kustomize_objects())
    by_directory = sorted(appsets.object_key(o) for o in directory_objects)
    assert by_kustomize == by_directory
    assert len(by_directory) == len(set(by_directory)), "an object is defined twice"


def test_only_argo_cd_objects_in_the_argocd_namespace(directory_objects):
    assert directory_objects
    for obj in directory_objects:
        assert obj["apiVersion"] == "argoproj.io/v1alpha1", appsets.object_key(obj)
        assert obj["kind"] in {"AppProject", "ApplicationSet", "Application"}, appsets.object_key(obj)
        assert obj["metadata"]["namespace"] == names.NAMESPACE_ARGOCD, appsets.object_key(obj)


def test_directory_source_reads_no_kustomization_and_no_readme():
    read = {p.name for p in appsets.directory_files()}
    assert "Kustomization" not in read and "README.md" not in read
    assert (appsets.ARGOCD_DIR / "Kustomization").is_file()
    assert (appsets.ARGOCD_DIR / "README.md").is_file()


def test_projects_sync_before_the_application_sets_that_name_them(directory_objects):
    def wave(obj):
        return int(obj["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0"))

    projects = [o for o in directory_objects if o["kind"] == "AppProject"]
    sets = appsets.application_sets(directory_objects)
    assert max(wave(p) for p in projects) < min(wave(s) for s in sets)
    addons = [s for s in sets if s["spec"]["template"]["spec"]["project"] == "platform"]
    apps = [s for s in sets if s["spec"]["template"]["spec"]["project"] != "platform"]
    assert max(wave(a) for a in addons) < min(wave(a) for a in apps), "add-ons (CRDs) before the apps"


@pytest.mark.parametrize("stack", STACKS)
def test_root_application_of_the_bootstrap_points_at_this_folder(stack):
    plan = Plan.loads((appsets.PLANS_DIR / f"{stack}.json").read_text())
    root = plan.one(ROOT_APP_TYPE).inputs["spec"]
    assert root["source"]["path"] == names.GITOPS_ROOT_PATH
    assert (appsets.REPO_ROOT / root["source"]["path"]).is_dir()
    # A directory source: appsets.directory_files() is what Argo CD reads.
    assert root["source"].get("directory", {}).get("recurse") is True
    assert json.dumps(root).count("kustomize") == 0
