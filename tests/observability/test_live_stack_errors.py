"""`make up` on a machine without Alertmanager: one line naming the package, nothing left behind."""

from __future__ import annotations

import tempfile

from florai_testkit import live_stack, observability_servers


def test_missing_alertmanager_is_one_line_and_leaves_no_temp_folder(tmp_path, monkeypatch, capsys):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(observability_servers, "ALERTMANAGER_BIN", "/nonexistent/florai-test-no-alertmanager")
    assert live_stack.main(["--models", str(models)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "apt-get install -y prometheus-alertmanager" in err
    assert list(scratch.iterdir()) == []


def test_missing_prometheus_is_named_too(tmp_path, monkeypatch, capsys):
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(observability_servers, "PROMETHEUS_BIN", "/nonexistent/florai-test-no-prometheus")
    assert live_stack.main(["--models", str(models)]) == 2
    assert "apt-get install -y prometheus\n" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models"]
