"""EKS versions against the vendored EKS release calendar (platform/upstream/eks/calendar.yaml).

Fails 60 days before the pinned version leaves standard support, so an upgrade is planned, not
imposed: with the STANDARD upgrade policy AWS upgrades a cluster behind the config's back.
"""

from __future__ import annotations

import datetime as dt

import pytest

from florai_infra import STACKS, upstream
from florai_infra.config import ClusterSettings
from florai_infra.offline.engine import load_stack_config
from florai_infra.policies.versions import standard_support_days_left

NOTICE_DAYS = 60


def _months_later(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


def pinned_versions() -> dict[str, str]:
    return {
        "default": ClusterSettings().kubernetes_version,
        **{stack: load_stack_config(stack)["florai:kubernetesVersion"] for stack in STACKS},
    }


@pytest.mark.parametrize(("where", "version"), sorted(pinned_versions().items()))
def test_pinned_version_has_60_days_of_standard_support_left(where, version):
    left = standard_support_days_left(version, dt.date.today())
    assert left is not None, f"{where}: {version} is not in the EKS calendar"
    assert left >= NOTICE_DAYS, (
        f"{where}: Kubernetes {version} leaves EKS standard support in {left} days: upgrade "
        "(add the next version's add-on and AMI pins in platform/upstream/eks, then kubernetesVersion)"
    )


def test_the_notice_fires_on_the_60th_day():
    end = upstream.eks_calendar()["1.35"]["end_of_standard_support"]
    assert standard_support_days_left("1.35", end - dt.timedelta(days=NOTICE_DAYS)) == NOTICE_DAYS
    assert standard_support_days_left("1.35", end - dt.timedelta(days=NOTICE_DAYS - 1)) < NOTICE_DAYS
    assert standard_support_days_left("1.31", dt.date(2026, 12, 2)) < 0  # the version issue 15 found


def test_calendar_follows_the_14_plus_12_month_rule():
    # AWS's dates land within days of the rule (1.35: released 28 Jan 2026, standard until 27 Mar 2027).
    for version, entry in upstream.eks_calendar().items():
        standard = entry["end_of_standard_support"]
        assert abs((standard - _months_later(entry["released"], 14)).days) <= 7, version
        assert entry["end_of_extended_support"] == _months_later(standard, 12), version


def test_every_stack_runs_the_newest_version_whose_addons_and_amis_are_pinned():
    today = dt.date.today()
    ready = [
        v
        for v, entry in upstream.eks_calendar().items()
        if v in upstream.addon_versions()
        and v in upstream.ami_release_versions()
        and (entry["end_of_standard_support"] - today).days >= NOTICE_DAYS
    ]
    newest = max(ready, key=lambda v: tuple(int(p) for p in v.split(".")))
    assert set(pinned_versions().values()) == {newest}
