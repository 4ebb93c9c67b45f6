"""Every alert carries a dashboard link from one pattern, to a dashboard this repository ships (finding 3)."""

from __future__ import annotations

from florai_alerts.dashboards import DASHBOARD_OF_RULES, dashboard_url
from florai_alerts.render import rule_files
from florai_dashboards.catalogue import builders


def test_every_alert_links_the_dashboard_of_its_area():
    shipped = set(builders())
    seen = 0
    for stem, (_, document) in rule_files().items():
        for group in document["groups"]:
            for rule in group["rules"]:
                if "alert" not in rule:
                    continue
                seen += 1
                url = rule["annotations"]["dashboard_url"]
                assert url == dashboard_url(stem), rule["alert"]
                assert url.removeprefix("/d/") in shipped, rule["alert"]
    assert seen > 0


def test_every_rule_file_has_a_dashboard():
    assert set(rule_files()) == set(DASHBOARD_OF_RULES)
