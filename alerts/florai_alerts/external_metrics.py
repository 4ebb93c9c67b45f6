"""alerts/external-metrics.yaml: the metrics external exporters provide, each with its source."""

from __future__ import annotations

from pathlib import Path

import yaml

from florai_alerts.layout import EXTERNAL_METRICS


class _UniqueKeyLoader(yaml.SafeLoader):
    """Refuses a metric listed twice (plain YAML would silently keep the last one)."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict:
    keys = [loader.construct_object(key) for key, _ in node.value]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"listed twice: {', '.join(map(str, duplicates))}")
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_deployers(path: Path = EXTERNAL_METRICS) -> dict[str, str]:
    """{source: the ApplicationSet (argocd/) that deploys it}; raises ValueError if a source has none."""
    document = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    deployers = document.get("deployed_by") or {}
    missing = sorted(set(document["sources"]) - set(deployers))
    if missing:
        raise ValueError(f"sources without deployed_by: {', '.join(missing)}")
    return dict(deployers)


def load_external_metrics(path: Path = EXTERNAL_METRICS) -> dict[str, str]:
    """{metric name: source}; raises ValueError if a source is undeclared or a name is listed twice."""
    document = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    sources, metrics = document["sources"], document["metrics"]
    unknown = sorted(name for name, source in metrics.items() if source not in sources)
    if unknown:
        raise ValueError(f"metrics with an undeclared source: {', '.join(unknown)}")
    return dict(metrics)
