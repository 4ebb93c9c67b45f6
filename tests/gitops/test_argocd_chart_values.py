"""Every Helm value an add-on sets is a key of that chart version's own values.yaml (issue 15, item 5),
vendored under platform/upstream/charts/<chart>/<version>/; the rules are florai_gitops.chart_values."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from florai_gitops import appsets, chart_values
from florai_gitops.chart_values import commented_keys, unknown_keys
from florai_infra.config import GitOpsSettings

UPSTREAM = chart_values.CHARTS


def chart_sources() -> list[dict[str, Any]]:
    sources = [
        s["spec"]["template"]["spec"]["source"] for s in appsets.application_sets(appsets.directory_objects())
    ]
    return sorted((s for s in sources if "chart" in s), key=lambda s: s["chart"])


@pytest.mark.parametrize("source", chart_sources(), ids=lambda s: s["chart"])
def test_every_value_set_is_a_key_of_that_chart_version(source):
    folder = chart_values.folder(source["chart"], source["targetRevision"])
    assert (folder / "values.yaml").is_file(), f"vendor {folder}/values.yaml (and SOURCE.yaml)"
    source_file = yaml.safe_load((folder / "SOURCE.yaml").read_text())
    assert source_file["version"] == str(source["targetRevision"]) and source_file["chart"] == source["chart"]
    assert source_file["helm_repository"] == source["repoURL"]
    values = source["helm"].get("valuesObject", {})
    assert unknown_keys(values, source["chart"], str(source["targetRevision"])) == []


def test_the_helper_finds_the_key_external_secrets_ignored():
    """The bug this guards: `env` is no key of the external-secrets chart (it is `extraEnv`)."""
    (version,) = [p.name for p in (UPSTREAM / "external-secrets").iterdir()]
    assert unknown_keys({"env": {"AWS_REGION": "x"}}, "external-secrets", version) == ["env.AWS_REGION"]
    assert unknown_keys({"serviceAccount": {"annotations": {"a/b": "c"}}}, "external-secrets", version) == []


def test_commented_keys_are_documented_in_their_parent_block():
    text = "a:\n  b: 1\n  # c: 2\nd:\n  # e: {}\n# g: 3\n# not a key\n"
    assert commented_keys(text) == {("a", "c"), ("d", "e"), ("g",)}


def test_every_vendored_chart_is_pinned_by_an_application_set():
    pinned = {(s["chart"], str(s["targetRevision"])) for s in chart_sources()}
    subcharts = set()
    for source in UPSTREAM.glob("*/*/SOURCE.yaml"):
        for sub, version in (yaml.safe_load(source.read_text()).get("subcharts") or {}).items():
            subcharts.add((sub, str(version)))
    vendored = {(p.parent.parent.name, p.parent.name) for p in UPSTREAM.glob("*/*/values.yaml")}
    # Nothing vendored is left without a user: an add-on's ApplicationSet, a subchart, or the program's
    # Argo CD bootstrap release (tests/infra/test_program_gitops.py).
    bootstrap = {("argo-cd", GitOpsSettings().argocd_chart_version)}
    assert vendored - pinned - subcharts - bootstrap == set()
