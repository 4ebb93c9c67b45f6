"""The restore drill in its short form, for real: PostgreSQL with WAL archiving, consent writes through the
app's data layer, a base backup, a destructive statement, a point-in-time restore into a new data dir."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from florai_ops.consent_load import Change
from florai_ops.drill import PROGRESS_LINES, SHORT, _verify, main, run_drill

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


LOG: list[str] = []


@pytest.fixture(scope="module")
def report():
    return run_drill(SHORT, log=LOG.append)


def test_the_drill_says_what_it_does_as_it_goes(report) -> None:
    assert LOG[0].startswith(f"drill: {SHORT.writers} writers for about")
    progress = [line for line in LOG if line.strip().startswith("load ")]
    assert len(progress) == PROGRESS_LINES
    committed = [int(line.split(": ")[1].split()[0]) for line in progress]
    assert committed == sorted(committed) and committed[-1] > committed[0]  # the load was running


def test_short_drill_restores_exactly_the_changes_before_the_disaster(report) -> None:
    assert report.ok, report.lines()
    assert report.committed_before > 50  # a real load ran, through the backup and up to the disaster
    assert report.committed_after > 0  # writes after the disaster existed and did not come back
    assert report.lost == () and report.resurrected == () and report.wrong_settings == ()
    # The disaster deleted every settings row; the restore brings back one per user written before it.
    assert report.restored_settings_rows == SHORT.writers * 5


def test_short_drill_reports_rpo_and_rto(report) -> None:
    assert report.last_recovered_commit is not None
    assert 0 <= report.rpo_s < 1.0  # continuous writers: the last recovered commit is just before it
    assert 0 < report.restore_s < 30.0  # RTO well inside the 30 min runbook target
    assert report.disaster_to_serving_s >= report.restore_s
    text = "\n".join(report.lines())
    assert "RPO data: 0 committed changes lost" in text and "RTO:" in text and "PASS" in text


def _change(actor: str, user: str, value: bool, seconds: float) -> Change:
    return Change(actor, user, value, T0 + timedelta(seconds=seconds))


def test_verification_flags_lost_resurrected_and_wrong_settings() -> None:
    changes = [
        _change("a", "u1", True, 1),
        _change("b", "u2", True, 2),
        _change("c", "u1", False, 3),
        _change("d", "u1", True, 11),  # after the disaster at T0+10
    ]
    disaster = T0 + timedelta(seconds=10)
    # Restored: "c" missing (lost), "d" present (resurrected), u1 has the post-disaster value.
    before, after, lost, resurrected, wrong, last = _verify(
        changes, disaster, {"a", "b", "d"}, {"u1": True, "u2": True}
    )
    assert [c.actor for c in before] == ["a", "b", "c"] and [c.actor for c in after] == ["d"]
    assert lost == ("c",) and resurrected == ("d",) and wrong == ("u1",)
    assert last == T0 + timedelta(seconds=2)


def test_cli_help_names_the_full_form(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "--full" in capsys.readouterr().out
