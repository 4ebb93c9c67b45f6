"""Every alert's runbook_url points at a page that exists in this repository."""

from __future__ import annotations

from florai_alerts.layout import REPO_ROOT
from florai_alerts.render import rule_files
from florai_alerts.runbooks import repository_web_url, runbook_path


def _alerts() -> dict[str, str]:
    return {
        rule["alert"]: rule["annotations"]["runbook_url"]
        for _, document in rule_files().values()
        for group in document["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


def test_every_alert_has_its_runbook_page():
    missing = sorted(name for name in _alerts() if not runbook_path(name).is_file())
    assert missing == [], "write runbooks/<AlertName>.md for each"


def test_every_runbook_url_resolves_to_a_file_in_the_repository():
    prefix = f"{repository_web_url()}/blob/main/"
    for name, url in _alerts().items():
        assert url.startswith(prefix), url
        page = REPO_ROOT / url.removeprefix(prefix)
        assert page == runbook_path(name) and page.read_text().strip(), name


def test_a_missing_page_is_reported(tmp_path, monkeypatch):
    names = list(_alerts())
    monkeypatch.setattr("florai_alerts.runbooks.RUNBOOKS_DIR", tmp_path)
    (tmp_path / "FloraiLoadShedding.md").write_text("# FloraiLoadShedding\n")
    missing = sorted(name for name in names if not runbook_path(name).is_file())
    assert "FloraiLoadShedding" not in missing and "FloraiModelNotLoaded" in missing
