"""Reference data vendored from upstream projects (platform/upstream/<topic>/), read in one place.

Each file has a SOURCE.yaml (or a header) with its URL, upstream version and retrieval date;
tests compare the program with these files, never with the program's own assumptions.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml

UPSTREAM = Path(__file__).resolve().parents[1] / "upstream"


def path(topic: str, name: str) -> Path:
    return UPSTREAM / topic / name


@cache
def _yaml(topic: str, name: str) -> Any:
    return yaml.safe_load(path(topic, name).read_text())


def iam_policy(controller: str) -> dict[str, Any]:
    """An upstream controller's documented IAM policy (platform/upstream/iam/<controller>.json)."""
    return json.loads(path("iam", f"{controller}.json").read_text())


def iam_sources() -> dict[str, Any]:
    return _yaml("iam", "SOURCE.yaml")


@cache
def aws_regions() -> dict[str, str]:
    """Every AWS region name -> its partition id, from botocore's partitions.json."""
    data = json.loads(path("regions", "partitions.json").read_text())
    return {
        region: partition["id"]
        for partition in data["partitions"]
        for region in partition["regions"]
        if not region.endswith("-global")
    }


def eks_calendar() -> dict[str, dict[str, dt.date]]:
    """Kubernetes minor version -> released / end_of_standard_support / end_of_extended_support."""
    return _yaml("eks", "calendar.yaml")["versions"]


def ami_release_versions() -> dict[str, str]:
    """Kubernetes minor version -> EKS AL2023 AMI release version (managed node group releaseVersion)."""
    return _yaml("eks", "ami-releases.yaml")["release_versions"]


def addon_versions() -> dict[str, dict[str, str]]:
    """Kubernetes minor version -> EKS add-on name -> pinned add-on version."""
    return _yaml("eks", "addon-versions.yaml")["versions"]


def chart_values(chart: str, version: str) -> dict[str, Any]:
    """A chart version's own values.yaml (platform/upstream/charts/<chart>/<version>/)."""
    return _yaml("charts", f"{chart}/{version}/values.yaml") or {}
