"""The committed dashboard JSON, ConfigMaps and kustomization are exactly what the sources generate."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from florai_dashboards.__main__ import main
from florai_dashboards.catalogue import builders
from florai_dashboards.render import (
    CONFIGMAP_DIR,
    FOLDER_ANNOTATION,
    GRAFANA_NAMESPACE,
    JSON_DIR,
    KUSTOMIZATION,
    ROOT,
    SIDECAR_LABEL,
    configmap_name,
    outputs,
    stale,
)


def test_committed_files_are_not_stale():
    problems = stale(outputs())
    assert problems == [], f"stale dashboards {problems}: run `python -m florai_dashboards generate`"


def test_generation_is_deterministic():
    assert outputs() == outputs()


def test_check_fails_on_an_edited_or_leftover_file(tmp_path, monkeypatch, capsys):
    from florai_dashboards import render

    copy = tmp_path / "dashboards"
    shutil.copytree(ROOT / "json", copy / "json")
    shutil.copytree(ROOT / "configmaps", copy / "configmaps")
    shutil.copy(KUSTOMIZATION, copy / "kustomization.yaml")
    monkeypatch.setattr(render, "JSON_DIR", copy / "json")
    monkeypatch.setattr(render, "CONFIGMAP_DIR", copy / "configmaps")
    monkeypatch.setattr(render, "KUSTOMIZATION", copy / "kustomization.yaml")
    monkeypatch.setattr(render, "ROOT", copy)
    files = render.outputs()
    assert render.stale(files) == []
    edited = copy / "json" / "florai-overview.json"
    edited.write_text(edited.read_text().replace("Request rate by route", "Request rate"))
    (copy / "json" / "removed-board.json").write_text("{}")
    assert render.stale(files) == ["json/florai-overview.json", "json/removed-board.json"]
    render.write(files)
    assert render.stale(files) == [] and not (copy / "json" / "removed-board.json").exists()


def test_cli_check_passes_on_the_committed_tree():
    assert main(["generate", "--check"]) == 0


def test_one_json_and_one_configmap_per_dashboard():
    uids = sorted(builders())
    assert sorted(p.stem for p in JSON_DIR.glob("*.json")) == uids
    assert sorted(p.stem for p in CONFIGMAP_DIR.glob("*.yaml")) == uids
    for uid in uids:
        board = json.loads((JSON_DIR / f"{uid}.json").read_text())
        assert board["uid"] == uid


def test_configmaps_carry_the_dashboard_for_the_sidecar():
    for path in sorted(CONFIGMAP_DIR.glob("*.yaml")):
        cm = yaml.safe_load(path.read_text())
        uid = path.stem
        assert cm["kind"] == "ConfigMap" and cm["metadata"]["name"] == configmap_name(uid)
        assert cm["metadata"]["namespace"] == GRAFANA_NAMESPACE
        assert cm["metadata"]["labels"][SIDECAR_LABEL] == "1"
        assert cm["metadata"]["annotations"][FOLDER_ANNOTATION]
        assert json.loads(cm["data"][f"{uid}.json"]) == json.loads((JSON_DIR / f"{uid}.json").read_text())


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) is on the machine image")
def test_kustomize_renders_every_configmap_without_hash_suffix():
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(ROOT)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    names = sorted(doc["metadata"]["name"] for doc in yaml.safe_load_all(rendered) if doc)
    assert names == sorted(configmap_name(uid) for uid in builders())
