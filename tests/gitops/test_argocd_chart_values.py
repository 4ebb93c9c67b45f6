"""Every Helm value an add-on sets is a key of that chart version's own values.yaml (issue 15, item 5).

Helm ignores unknown keys silently (external-secrets 0.12 never read the `env` this repo set), so each
key path an ApplicationSet's ``helm.valuesObject`` sets must exist in the upstream values.yaml vendored
under platform/upstream/charts/<chart>/<version>/ (SOURCE.yaml says where it came from). Allowed
beyond the keys present: anything below a documented free-form map (``{}`` or empty in values.yaml,
e.g. ``annotations``, ``nodeSelector``), list contents, keys documented as comments in their parent's
block (``# configSecret:``), and subcharts' values (SOURCE.yaml ``subcharts``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from florai_gitops import appsets

UPSTREAM = appsets.REPO_ROOT / "platform" / "upstream" / "charts"
COMMENTED_KEY = re.compile(r"^(?P<indent>\s*)#\s{0,2}(?P<key>[A-Za-z_][\w.-]*):(\s|$)")
REAL_KEY = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z_][\w.-]*|\"[^\"]+\"):(\s|$)")

Path_ = tuple[str, ...]
# Maps whose upstream default holds examples rather than the full key set: any key below is ours.
FREE_FORM: dict[str, set[Path_]] = {
    # `config.modules` lists example modules (http_2xx...); each module is named by the user.
    "prometheus-blackbox-exporter": {("config", "modules")},
    # The collector's own configuration (receivers, exporters, pipelines) is free-form by design.
    "opentelemetry-collector": {("config",)},
}
# Charts whose ApplicationSets (and vendored values) belong to the issue-15 change: checked here as
# soon as their vendored folder exists.
VENDORED_ELSEWHERE = {"aws-load-balancer-controller", "cluster-autoscaler", "external-dns"}


# --- the generic helper -------------------------------------------------------------------------------
def key_paths(values: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every key path a values object sets, down to its leaves (lists and scalars are leaves)."""
    if isinstance(values, dict) and values:
        for key, child in values.items():
            yield from key_paths(child, (*prefix, str(key)))
    else:
        yield prefix


def commented_keys(text: str) -> set[Path_]:
    """Key paths documented only as comments (``# key:``) inside their parent's block of values.yaml."""
    stack: list[tuple[int, str]] = []  # (indent, key) of the real keys enclosing the current line
    found: set[Path_] = set()
    for line in text.splitlines():
        if not line.strip():
            continue
        real = REAL_KEY.match(line)
        commented = COMMENTED_KEY.match(line)
        match = real or commented
        if not match:
            continue
        indent = len(match.group("indent"))
        if real:
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, real.group("key").strip('"')))
        else:
            parents = [k for i, k in stack if i < indent]
            found.add((*parents, commented.group("key")))
    return found


def deep_merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


@functools.cache
def upstream(chart: str, version: str) -> tuple[dict, frozenset[Path_]]:
    """(values, commented key paths) of a vendored chart version, its subcharts' under their keys."""
    folder = UPSTREAM / chart / version
    text = (folder / "values.yaml").read_text()
    values, commented = yaml.safe_load(text) or {}, set(commented_keys(text))
    source = yaml.safe_load((folder / "SOURCE.yaml").read_text())
    for sub, sub_version in (source.get("subcharts") or {}).items():
        sub_values, sub_commented = upstream(sub, str(sub_version))
        values = deep_merge(values, {sub: deep_merge(sub_values, values.get(sub) or {})})
        commented |= {(sub, *p) for p in sub_commented}
    return values, frozenset(commented)


def is_known(path: Path_, values: Any, commented: frozenset[Path_]) -> bool:
    node = values
    for depth, key in enumerate(path):
        if not isinstance(node, dict):
            return node is None  # an empty key (`resources:`) is a free-form slot
        if key in node:
            node = node[key]
            continue
        return not node or path[: depth + 1] in commented  # `{}`: a free-form map
    return True


def unknown_keys(values: dict, chart: str, version: str) -> list[str]:
    upstream_values, commented = upstream(chart, version)
    free = FREE_FORM.get(chart, set())
    return [
        ".".join(p)
        for p in key_paths(values)
        if not is_known(p, upstream_values, commented) and not any(p[: len(f)] == f for f in free)
    ]


# --- the tests --------------------------------------------------------------------------------------
def chart_sources() -> list[dict[str, Any]]:
    sources = [
        s["spec"]["template"]["spec"]["source"] for s in appsets.application_sets(appsets.directory_objects())
    ]
    return sorted((s for s in sources if "chart" in s), key=lambda s: s["chart"])


@pytest.mark.parametrize("source", chart_sources(), ids=lambda s: s["chart"])
def test_every_value_set_is_a_key_of_that_chart_version(source):
    folder = UPSTREAM / source["chart"] / str(source["targetRevision"])
    if source["chart"] in VENDORED_ELSEWHERE and not (UPSTREAM / source["chart"]).is_dir():
        assert "valuesObject" in source["helm"]  # its values are checked once issue 15 vendors the chart
        return
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
    # Charts another owner vendors (the load balancer controller, cluster autoscaler, ExternalDNS) may
    # be absent here; nothing vendored may be left without a user.
    assert vendored - pinned - subcharts == set()
