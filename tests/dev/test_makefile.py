"""The Makefile's own promises: models built only when missing or stale; DATA honoured by manifests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def make(*args: str) -> subprocess.CompletedProcess:
    # The venv's own staleness (a pyproject edited in this session) is not what these tests judge.
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed-stamp", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )


def test_models_are_rebuilt_only_when_missing_or_stale(tmp_path: Path):
    models = tmp_path / "models"
    assert make("-q", "models", f"MODELS={models}").returncode == 1  # missing: would build
    models.mkdir()
    stamp = models / ".built"
    stamp.touch()
    assert make("-q", "models", f"MODELS={models}").returncode == 0  # up to date: nothing to do
    source = REPO_ROOT / "apps" / "florai" / "models" / "reference.py"
    # A model source newer than the stamp makes it stale.
    os.utime(stamp, (source.stat().st_mtime - 60, source.stat().st_mtime - 60))
    assert make("-q", "models", f"MODELS={models}").returncode == 1


def test_manifests_are_written_under_data(tmp_path: Path):
    done = make("manifests", f"DATA={tmp_path}")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "manifests").iterdir()) == [
        "dev.yaml",
        "prod.yaml",
        "staging.yaml",
    ]
