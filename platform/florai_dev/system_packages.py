"""The Debian packages a make target needs, installed when it can be, else one line saying how.

Runs before the virtualenv exists, on the machine's own Python: standard library only.

    python3 platform/florai_dev/system_packages.py test      # what `make test` runs first

Each requirement is a program (found on PATH or at a known path) and the Debian package that
brings it. When one is missing: as root, or with passwordless sudo, ``apt-get install`` it (with
progress on stderr); otherwise print the one command to run and exit 1 at once, before any slow
work. ``--check`` only reports (exit 1 when something is missing), never installs.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Requirement:
    program: str  # what the target runs
    package: str  # the Debian package that brings it
    why: str

    def present(self, which: Callable[[str], str | None] = shutil.which) -> bool:
        if self.program == "initdb":  # PostgreSQL's server binaries are not on PATH on Debian
            return bool(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or which("initdb") is not None
        if self.program == "python3-venv":
            return _venv_works()
        return which(self.program) is not None


def _venv_works() -> bool:
    """Debian splits ensurepip out of its Python: without python3-venv, `python -m venv` fails."""
    python = os.environ.get("FLORAI_PYTHON", "python3.11")
    if shutil.which(python) is None:
        return True  # not this script's to judge: the Makefile names the missing Python itself
    done = subprocess.run([python, "-c", "import ensurepip, venv"], capture_output=True)
    return done.returncode == 0


POSTGRESQL = Requirement("initdb", "postgresql", "database tests and the restore drill")
REDIS = Requirement("redis-server", "redis-server", "cache and rate-limiter tests")
PROMETHEUS = Requirement("prometheus", "prometheus", "alert rules (promtool) and `make up`")
PROMTOOL = Requirement("promtool", "prometheus", "promtool rule tests")
ALERTMANAGER = Requirement(
    "prometheus-alertmanager", "prometheus-alertmanager", "alert routing and `make up`"
)
AMTOOL = Requirement("amtool", "prometheus-alertmanager", "amtool routing tests")
NODE = Requirement("node", "nodejs", "the Argo CD / Prometheus-operator CRD schema validator")
NPM = Requirement("npm", "npm", "installs the CRD schema validator's pinned packages")
VENV = Requirement("python3-venv", "python3-venv", "`python3 -m venv` on Debian's Python")
CHROMIUM = Requirement("chromium", "chromium", "the web UI's real-browser test")
CHROMEDRIVER = Requirement("chromedriver", "chromium-driver", "drives Chromium for the browser test")

TARGETS: dict[str, tuple[Requirement, ...]] = {
    "venv": (VENV,),
    "test": (
        VENV,
        POSTGRESQL,
        REDIS,
        PROMETHEUS,
        PROMTOOL,
        ALERTMANAGER,
        AMTOOL,
        NODE,
        NPM,
        CHROMIUM,
        CHROMEDRIVER,
    ),
    "up": (VENV, PROMETHEUS, ALERTMANAGER),
    "drill": (VENV, POSTGRESQL),
}


def missing_packages(target: str, which: Callable[[str], str | None] = shutil.which) -> list[str]:
    """Debian packages to install for ``target``, in a stable order, each once."""
    packages: list[str] = []
    for requirement in TARGETS[target]:
        if not requirement.present(which) and requirement.package not in packages:
            packages.append(requirement.package)
    return packages


def install_command(packages: Sequence[str], sudo: bool) -> str:
    prefix = "sudo " if sudo else ""
    return (
        f"{prefix}apt-get update && {prefix}apt-get install -y --no-install-recommends {' '.join(packages)}"
    )


def _privilege() -> list[str] | None:
    """How this process can install packages: [] as root, ["sudo", "-n"] with passwordless sudo."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


def _install(packages: Sequence[str], via: list[str], err) -> int:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"installing Debian packages: {' '.join(packages)} (apt-get, about a minute)", file=err, flush=True)
    for argv in (
        [*via, "apt-get", "update", "-q"],
        [*via, "apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
    ):
        done = subprocess.run(argv, env=env, stdout=err, stderr=err)
        if done.returncode != 0:
            print(f"error: `{' '.join(argv)}` failed (exit {done.returncode})", file=err)
            return 1
    return 0


def ensure(target: str, *, check_only: bool = False, err=sys.stderr) -> int:
    packages = missing_packages(target)
    if not packages:
        return 0
    via = None if check_only else _privilege()
    if via is None:
        command = install_command(packages, sudo=os.geteuid() != 0)
        print(
            f"error: `make {target}` needs the Debian packages {', '.join(packages)}: run `{command}`",
            file=err,
        )
        return 1
    if _install(packages, via, err) != 0:
        return 1
    still = missing_packages(target)
    if still:
        print(f"error: installed, yet still missing: {', '.join(still)}", file=err)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="system_packages.py", description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=sorted(TARGETS))
    parser.add_argument("--check", action="store_true", help="report what is missing, install nothing")
    args = parser.parse_args(argv)
    return ensure(args.target, check_only=args.check)


if __name__ == "__main__":
    sys.exit(main())
