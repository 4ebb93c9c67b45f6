"""The offline engine answers data sources from the repository's own data, never with invented versions."""

from __future__ import annotations

import pytest

from florai_infra import upstream
from florai_infra.offline.calls import UnansweredCallError, answer_call

ADDON_VERSION = "aws:eks/getAddonVersion:getAddonVersion"


def test_addon_versions_come_from_the_pinned_table():
    for kubernetes, addons in upstream.addon_versions().items():
        for addon, version in addons.items():
            answer = answer_call(
                ADDON_VERSION,
                {"addonName": addon, "kubernetesVersion": kubernetes},
                region="us-east-1",
                account_id="1",
            )
            assert answer["version"] == version


@pytest.mark.parametrize(("addon", "kubernetes"), [("vpc-cni", "1.31"), ("unknown-addon", "1.35")])
def test_an_unpinned_addon_version_is_not_invented(addon, kubernetes):
    with pytest.raises(UnansweredCallError, match=f"no pinned version of EKS add-on {addon}"):
        answer_call(
            ADDON_VERSION,
            {"addonName": addon, "kubernetesVersion": kubernetes},
            region="us-east-1",
            account_id="1",
        )


def test_zones_only_for_real_regions():
    zones = answer_call(
        "aws:index/getAvailabilityZones:getAvailabilityZones", {}, region="eu-west-1", account_id="1"
    )
    assert zones["names"][:3] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    with pytest.raises(UnansweredCallError):
        answer_call(
            "aws:index/getAvailabilityZones:getAvailabilityZones", {}, region="eu-west-9", account_id="1"
        )
