"""What an SRE must see in `make preview STACK=prod` before a first apply (issue 15, Done when)."""

from __future__ import annotations

import io
import re

import pytest

from florai_infra import upstream
from florai_infra.offline.engine import load_stack_config
from florai_infra.preview.cli import main


@pytest.fixture(scope="module")
def prod_preview() -> str:
    out, err = io.StringIO(), io.StringIO()
    assert main(["--stack", "prod", "--no-color"], out=out, err=err) == 0, err.getvalue()
    return out.getvalue()


def test_prod_preview_shows_ci_access_certificate_and_dns(prod_preview):
    assert re.search(r"aws:eks/accessEntry:AccessEntry\s+ci-pulumi-deploy-cluster", prod_preview)
    assert "aws:acm/certificate:Certificate" in prod_preview and "validationMethod=DNS" in prod_preview
    assert "aws:route53/record:Record" in prod_preview


def test_prod_preview_shows_network_policy_enforcement_and_pinned_versions(prod_preview):
    assert '{"enableNetworkPolicy": "true"}' in prod_preview
    # The pinned table for the stack's Kubernetes version: the offline engine answers from it too.
    version_of_prod = load_stack_config("prod")["florai:kubernetesVersion"]
    for name, version in upstream.addon_versions()[version_of_prod].items():
        assert f"addonName={name}  addonVersion={version}" in prod_preview
    assert re.search(rf"releaseVersion={re.escape(version_of_prod)}\.\d+-\d{{8}}", prod_preview)


def test_prod_preview_marks_stateful_resources_protected(prod_preview):
    for kind in ("rds/instance:Instance", "eks/cluster:Cluster", "ecr/repository:Repository", "kms/key:Key"):
        lines = [line for line in prod_preview.splitlines() if f"aws:{kind}" in line]
        assert lines and all("[protected" in line for line in lines), kind
