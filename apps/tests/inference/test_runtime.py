"""Thread count from the cgroup CPU limit (v2, then v1), the override, and device selection."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from florai.inference import runtime


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_cgroup_v2_quota(tmp_path: Path) -> None:
    cpu_max = write(tmp_path / "cpu.max", "250000 100000\n")
    assert runtime.cgroup_cpu_limit(cpu_max, tmp_path / "no", tmp_path / "no") == 2.5


def test_cgroup_v2_unlimited(tmp_path: Path) -> None:
    cpu_max = write(tmp_path / "cpu.max", "max 100000\n")
    assert runtime.cgroup_cpu_limit(cpu_max, tmp_path / "no", tmp_path / "no") is None


def test_cgroup_v1_fallback(tmp_path: Path) -> None:
    quota = write(tmp_path / "quota", "150000\n")
    period = write(tmp_path / "period", "100000\n")
    assert runtime.cgroup_cpu_limit(tmp_path / "absent", quota, period) == 1.5
    write(quota, "-1\n")
    assert runtime.cgroup_cpu_limit(tmp_path / "absent", quota, period) is None


def test_available_cpus_rounds_the_limit_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "cgroup_cpu_limit", lambda: 1.5)
    assert runtime.available_cpus() == 2
    monkeypatch.setattr(runtime, "cgroup_cpu_limit", lambda: 0.2)
    assert runtime.available_cpus() == 1


def test_threads_override_and_its_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(runtime.THREADS_ENV, "3")
    assert runtime.torch_threads() == 3
    for bad in ("0", "two"):
        monkeypatch.setenv(runtime.THREADS_ENV, bad)
        with pytest.raises(ValueError, match=runtime.THREADS_ENV):
            runtime.torch_threads()
    monkeypatch.delenv(runtime.THREADS_ENV)
    assert runtime.torch_threads() == runtime.available_cpus()


def test_configure_torch_applies_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    before = torch.get_num_threads()
    monkeypatch.setenv(runtime.THREADS_ENV, "1")
    try:
        assert runtime.configure_torch() == 1
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_device_selection() -> None:
    assert runtime.select_device("cpu") == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert runtime.select_device() == expected
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            runtime.select_device("cuda")


def test_default_worker_processes_share_the_cpus_between_models() -> None:
    assert runtime.default_processes("cpu", models=1, total_threads=4) == 4
    assert runtime.default_processes("cpu", models=2, total_threads=4) == 2
    assert runtime.default_processes("cpu", models=3, total_threads=2) == 1
    assert runtime.default_processes("cuda", models=1, total_threads=16) == 1
