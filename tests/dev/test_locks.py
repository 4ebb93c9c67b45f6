"""The hashed locks are current with the pyproject declarations, and each says which torch it gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from florai_dev import locks
from florai_dev.locks import APP_CPU, APP_CUDA, DEVELOPMENT, LOCKS, Lock

REPO_ROOT = locks.REPO_ROOT


@pytest.mark.parametrize("lock", LOCKS, ids=lambda lock: lock.relative)
def test_every_lock_is_current_and_fully_hashed(lock: Lock):
    assert locks.problems(lock) == []


def test_the_locks_agree_on_every_shared_pin():
    assert locks.disagreements(APP_CPU, DEVELOPMENT) == []
    assert locks.disagreements(APP_CPU, APP_CUDA) == []


def test_each_lock_names_its_torch_build():
    assert locks.read_pins(APP_CPU.path)["torch"][0] == "2.13.0+cpu"
    assert locks.read_pins(DEVELOPMENT.path)["torch"][0] == "2.13.0+cpu"
    cuda = locks.read_pins(APP_CUDA.path)
    assert cuda["torch"][0] == "2.13.0"
    # PyPI's Linux torch is the CUDA build: its runtime libraries are pinned too, never left to pip.
    nvidia = sorted(name for name in cuda if name.startswith("nvidia-"))
    assert len(nvidia) >= 10 and "nvidia-cuda-runtime" in nvidia
    assert not any(name.startswith("nvidia-") for name in locks.read_pins(APP_CPU.path))


def test_a_changed_declaration_makes_its_locks_stale(monkeypatch):
    declared = locks.declared

    def with_extra(group: str) -> list[str]:
        return declared(group) + (["rich>=13"] if group == "dev" else [])

    monkeypatch.setattr(locks, "declared", with_extra)
    found = locks.problems(DEVELOPMENT)
    assert any("not made from the current declarations" in p for p in found)
    assert any("rich (dev) is not pinned" in p for p in found)
    assert locks.problems(APP_CPU) == []  # the app group did not change


def test_an_unhashed_or_unsatisfying_pin_is_reported(tmp_path: Path, monkeypatch):
    text = APP_CPU.path.read_text()
    broken = text.replace("fastapi==", "fastapi==0.1.0 \\\n    # was ", 1)
    broken = broken.replace("\nnumpy==", "\nnumpy==2.4.6\nnumpy-unused==", 1)
    path = tmp_path / "requirements.lock"
    path.write_text(broken)
    found = locks.problems(Lock(path, APP_CPU.groups, APP_CPU.torch))
    assert any("fastapi==0.1.0 does not satisfy" in p for p in found)
    assert any("numpy==2.4.6 has no --hash" in p for p in found)


def test_the_image_installs_from_the_app_locks_by_build():
    dockerfile = (REPO_ROOT / "apps" / "Dockerfile").read_text()
    assert "requirements.lock" in dockerfile and "requirements-cuda.lock" in dockerfile
    assert "--require-hashes" in dockerfile
    assert locks.TORCH_CPU_INDEX in dockerfile
    assert not (REPO_ROOT / "apps" / "requirements.txt").exists()
    assert not (REPO_ROOT / "requirements.in").exists()


@pytest.mark.parametrize(
    ("dockerfile", "lock", "pyproject"),
    [
        ("apps/Dockerfile", APP_CPU, locks.APP_PYPROJECT),
        ("apps/Dockerfile", APP_CUDA, locks.APP_PYPROJECT),
        ("apps/ui/Dockerfile", locks.UI, locks.UI_PYPROJECT),
    ],
    ids=["api-cpu", "api-cuda", "ui"],
)
def test_each_image_lock_pins_the_build_backend_its_dockerfile_installs_with(dockerfile, lock, pyproject):
    """The images install their own package with `pip install --no-build-isolation`: the backend comes
    from the lock, not from the index (the UI image once had none and pip failed: no bdist_wheel)."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    assert "--no-build-isolation" in (locks.REPO_ROOT / dockerfile).read_text()
    pins = locks.read_pins(lock.path)
    for text in locks.build_requires(pyproject):
        requirement = Requirement(text)
        version = pins[locks.canonical(requirement.name)][0]
        assert requirement.specifier.contains(Version(version)), (lock.relative, text, version)
    # setuptools builds wheels itself from 70.1; older ones need the `wheel` package, which no lock pins.
    assert Version(pins["setuptools"][0]) >= Version("70.1")


@pytest.mark.parametrize("lock", LOCKS, ids=lambda lock: lock.relative)
def test_locks_name_no_temporary_path(lock: Lock):
    """`make lock` twice gives the same files: every input uv names in its comments has a fixed path."""
    assert "/tmp" not in lock.path.read_text()
