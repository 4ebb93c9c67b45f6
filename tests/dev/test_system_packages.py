"""`make test` installs the Debian packages it needs, or stops at once with the one command to run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from florai_dev import system_packages
from florai_dev.system_packages import TARGETS, install_command, missing_packages

SCRIPT = Path(system_packages.__file__)


def test_nothing_is_missing_on_this_machine():
    assert missing_packages("test") == []


def test_each_missing_program_names_its_package_once():
    packages = missing_packages("test", which=lambda name: None)
    assert "redis-server" in packages and "prometheus" in packages
    assert "prometheus-alertmanager" in packages and "nodejs" in packages
    assert len(packages) == len(set(packages))
    assert missing_packages("up", which=lambda name: None) == ["prometheus", "prometheus-alertmanager"]


def test_the_install_command_is_one_pasteable_line():
    line = install_command(["redis-server", "prometheus"], sudo=True)
    assert line == (
        "sudo apt-get update && sudo apt-get install -y --no-install-recommends redis-server prometheus"
    )


# The script runs before any venv exists, on the machine's own Python (which another user can run).
SYSTEM_PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable


def _run_without(programs_path: str, *args: str, user: str | None = None) -> subprocess.CompletedProcess:
    argv = [SYSTEM_PYTHON, str(SCRIPT), *args]
    if user:
        argv = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", user, "--", *argv]
    env = {"PATH": programs_path, "FLORAI_PYTHON": SYSTEM_PYTHON}
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)


def test_without_the_rights_to_install_it_stops_at_once_with_the_command(tmp_path: Path):
    empty = tmp_path / "bin"
    empty.mkdir()
    # nobody is neither root nor a sudoer: the script must not try apt-get.
    done = _run_without(str(empty), "test", user="nobody")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "`make test` needs the Debian packages" in lines[0]
    assert "run `sudo apt-get update && sudo apt-get install -y --no-install-recommends" in lines[0]
    wanted = ("redis-server", "prometheus", "prometheus-alertmanager", "nodejs", "npm", "chromium-driver")
    for package in wanted:
        assert package in lines[0]


def test_check_only_reports_without_installing(tmp_path: Path):
    done = _run_without(str(tmp_path), "up", "--check")
    assert done.returncode == 1
    assert "needs the Debian packages prometheus, prometheus-alertmanager" in done.stderr
    assert done.stdout == ""


def test_every_target_the_makefile_checks_is_known():
    makefile = (SCRIPT.parents[2] / "Makefile").read_text()
    for target in ("venv", "test", "up", "drill"):
        assert f"$(SYSTEM_PACKAGES) {target}" in makefile
        assert target in TARGETS
