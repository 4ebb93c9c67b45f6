"""Hashed lock files, generated from the dependencies declared once in the two pyproject files.

    apps/pyproject.toml   [project] dependencies          the "app" group: what the image runs
    apps/ui/pyproject.toml [project] dependencies         the "ui" group: what the web UI image runs
    pyproject.toml        [project] dependencies          the "infra" group: Pulumi, preview, tooling
                          [project.optional-dependencies] "dev" (tests, linters, uv), "bench" (peers)

    apps/requirements.lock        app, torch 2.13.0+cpu           the CPU image
    apps/requirements-cuda.lock   app, torch 2.13.0 (CUDA 13.0)   the GPU image
    apps/ui/requirements.lock     ui                              the web UI image
    requirements.lock             app+infra+ui+dev+bench, CPU     every developer venv, CI

Which torch build each gets is explicit in its lock: ``2.13.0+cpu`` exists only on PyTorch's CPU
index (or in a machine's own wheel folder, where pip is configured with one), while PyPI's
``2.13.0`` for Linux is the CUDA 13.0 build with its ``nvidia-*`` runtime wheels, all pinned.
The app pins of the other two locks are the CPU lock's (constraints), so they never disagree.

Each lock starts with ``# inputs-sha256: <digest>`` of the declarations it was made from;
``check`` (run by the test suite) fails when a declaration changed without ``make lock``.

    python -m florai_dev.locks compile   # `make lock`: resolve with uv (needs the registries)
    python -m florai_dev.locks check     # offline: digests, hashes, pins satisfy declarations
"""

from __future__ import annotations

import argparse
import configparser
import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ROOT_PYPROJECT = REPO_ROOT / "pyproject.toml"
APP_PYPROJECT = REPO_ROOT / "apps" / "pyproject.toml"
UI_PYPROJECT = REPO_ROOT / "apps" / "ui" / "pyproject.toml"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_VERSION = "2.13.0"
TORCH_CPU = f"torch=={TORCH_VERSION}+cpu"
# The lock targets Linux x86_64 (the images and the Debian machines), CPython 3.11.
PYTHON_VERSION = "3.11"
PYTHON_PLATFORM = "x86_64-manylinux_2_28"
DIGEST_PREFIX = "# inputs-sha256: "
COMPILE_COMMAND = "make lock"


@dataclass(frozen=True)
class Lock:
    path: Path
    groups: tuple[str, ...]  # app, infra, ui, dev, bench
    torch: str  # "cpu", "cuda", or "none" (a lock without torch)

    @property
    def relative(self) -> str:
        inside = self.path.is_relative_to(REPO_ROOT)
        return str(self.path.relative_to(REPO_ROOT)) if inside else str(self.path)


APP_CPU = Lock(REPO_ROOT / "apps" / "requirements.lock", ("app",), "cpu")
APP_CUDA = Lock(REPO_ROOT / "apps" / "requirements-cuda.lock", ("app",), "cuda")
DEVELOPMENT = Lock(REPO_ROOT / "requirements.lock", ("app", "infra", "ui", "dev", "bench"), "cpu")
UI = Lock(REPO_ROOT / "apps" / "ui" / "requirements.lock", ("ui",), "none")
LOCKS = (APP_CPU, APP_CUDA, DEVELOPMENT, UI)


class LockError(RuntimeError):
    """A lock cannot be made or is out of date; the message says what to run."""


def build_requires(pyproject: Path) -> list[str]:
    """The build backend a package's image installs it with (``pip install --no-build-isolation``
    takes it from the image's venv, so the image's lock must pin it)."""
    return list(tomllib.loads(pyproject.read_text())["build-system"]["requires"])


# A fixed path (build/ is ignored by git): uv names its input files in the lock's comments.
BUILD_INPUTS = REPO_ROOT / "build" / "lock"


def declared(group: str) -> list[str]:
    """The requirement strings declared for ``group``, as written in the pyproject file; an image's
    group (app, ui) includes its package's build requirements."""
    if group in ("app", "ui"):
        pyproject = APP_PYPROJECT if group == "app" else UI_PYPROJECT
        dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
        return [*dependencies, *build_requires(pyproject)]
    project = tomllib.loads(ROOT_PYPROJECT.read_text())["project"]
    if group == "infra":
        return list(project["dependencies"])
    return list(project.get("optional-dependencies", {}).get(group, []))


def inputs_digest(lock: Lock) -> str:
    payload = {"groups": {g: declared(g) for g in lock.groups}, "torch": lock.torch}
    payload |= {"python": PYTHON_VERSION, "platform": PYTHON_PLATFORM}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


# --- reading a lock -----------------------------------------------------------------------------
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(\S+?)(?:\s*;.*?)?\s*(\\)?$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, tuple[str, int]]:
    """``{canonical name: (version, number of hashes)}`` of a lock file."""
    pins: dict[str, tuple[str, int]] = {}
    current: str | None = None
    for line in path.read_text().splitlines():
        if match := _PIN.match(line):
            current = canonical(match.group(1))
            pins[current] = (match.group(3), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
        elif not line.startswith(" "):
            current = None
    return pins


def written_digest(path: Path) -> str | None:
    for line in path.read_text().splitlines()[:3]:
        if line.startswith(DIGEST_PREFIX):
            return line.removeprefix(DIGEST_PREFIX).strip()
    return None


def problems(lock: Lock) -> list[str]:
    """Why ``lock`` is not current (empty when it is)."""
    from packaging.requirements import Requirement  # in every venv (pip's and setuptools' dependency)
    from packaging.version import Version

    if not lock.path.is_file():
        return [f"{lock.relative} is missing: run `make lock`"]
    found: list[str] = []
    if written_digest(lock.path) != inputs_digest(lock):
        found.append(f"{lock.relative} was not made from the current declarations: run `make lock`")
    pins = read_pins(lock.path)
    found += [
        f"{lock.relative}: {name}=={v} has no --hash" for name, (v, n) in sorted(pins.items()) if n == 0
    ]
    for group in lock.groups:
        for text in declared(group):
            req = Requirement(text)
            pin = pins.get(canonical(req.name))
            if pin is None:
                found.append(f"{lock.relative}: {req.name} ({group}) is not pinned: run `make lock`")
            elif not req.specifier.contains(Version(pin[0]), prereleases=True):
                found.append(f"{lock.relative}: {req.name}=={pin[0]} does not satisfy {text!r} ({group})")
    torch = pins.get("torch", ("", 0))[0]
    if "app" in lock.groups and (torch.endswith("+cpu") != (lock.torch == "cpu")):
        found.append(f"{lock.relative}: torch {torch} is not the {lock.torch} build")
    return found


def disagreements(base: Lock, other: Lock) -> list[str]:
    """Packages that both locks pin at different versions (torch's build label aside)."""
    left, right = read_pins(base.path), read_pins(other.path)
    out = []
    for name in sorted(set(left) & set(right)):
        a, b = left[name][0].split("+")[0], right[name][0].split("+")[0]
        if a != b:
            out.append(
                f"{name}: {base.relative} pins {left[name][0]}, {other.relative} pins {right[name][0]}"
            )
    return out


# --- making the locks ---------------------------------------------------------------------------
def local_wheel_dirs() -> list[str]:
    """pip's configured find-links folders (PIP_FIND_LINKS or pip config): a machine's own wheels."""
    links = os.environ.get("PIP_FIND_LINKS", "").split()
    for path in ("/etc/pip.conf", "/etc/xdg/pip/pip.conf", str(Path.home() / ".config/pip/pip.conf")):
        parser = configparser.ConfigParser()
        if parser.read(path) and parser.has_option("global", "find-links"):
            links += parser.get("global", "find-links").split()
    return [link.removeprefix("file://") for link in links if Path(link.removeprefix("file://")).is_dir()]


def local_torch_cpu_dir() -> str | None:
    """A find-links folder holding the CPU wheel, so neither pip nor uv needs PyTorch's index."""
    pattern = f"torch-{TORCH_VERSION}+cpu-cp311-cp311-"
    for folder in local_wheel_dirs():
        if any(p.name.startswith(pattern) for p in Path(folder).glob("torch-*.whl")):
            return folder
    return None


def _uv() -> str:
    uv = Path(sys.prefix) / "bin" / "uv"
    if not uv.is_file():
        raise LockError("uv is not in the virtualenv: run `make venv` first (uv is in the dev group)")
    return str(uv)


def _torch_source(torch: str) -> list[str]:
    if torch in ("cuda", "none"):
        return []  # PyPI's Linux torch is the CUDA build; a lock without torch needs no other index
    folder = local_torch_cpu_dir()
    if folder:
        return ["--find-links", folder]
    return ["--extra-index-url", TORCH_CPU_INDEX, "--index-strategy", "unsafe-best-match"]


def _compile(lock: Lock, inputs: list[Path], constraints: list[Path], extras: list[str]) -> None:
    override = BUILD_INPUTS / "torch-cpu.txt"
    try:
        argv = [_uv(), "pip", "compile", *map(str, inputs), "--generate-hashes", "--quiet"]
        argv += ["--python-version", PYTHON_VERSION, "--python-platform", PYTHON_PLATFORM]
        argv += ["--custom-compile-command", COMPILE_COMMAND, "-o", str(lock.path)]
        for extra in extras:
            argv += ["--extra", extra]
        for constraint in constraints:
            argv += ["-c", str(constraint.relative_to(REPO_ROOT))]
        if lock.torch == "cpu":
            # A fixed relative path: uv names it in the lock's comments (a temporary one changed each run).
            override.parent.mkdir(parents=True, exist_ok=True)
            override.write_text(TORCH_CPU + "\n")
            argv += ["--override", str(override.relative_to(REPO_ROOT))]
        argv += _torch_source(lock.torch)
        print(f"resolving {lock.relative} ({', '.join(lock.groups)}; torch {lock.torch})", flush=True)
        done = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise LockError(f"uv could not resolve {lock.relative}: {done.stderr.strip()}")
    finally:
        override.unlink(missing_ok=True)
    body = lock.path.read_text()
    lock.path.write_text(f"{DIGEST_PREFIX}{inputs_digest(lock)}\n{body}")


def _without_torch(lock: Lock, into: Path) -> Path:
    """``lock`` minus its torch entry: constraints for the CUDA lock's shared packages."""
    kept, skipping = [], False
    for line in lock.path.read_text().splitlines():
        if _PIN.match(line):
            skipping = canonical(line.split("==")[0]) == "torch"
        elif not line.startswith(" "):
            skipping = False
        if not skipping:
            kept.append(line)
    into.write_text("\n".join(kept) + "\n")
    return into


def _build_input(name: str, pyproject: Path) -> Path:
    path = BUILD_INPUTS / f"{name}-build-requires.txt"
    path.write_text("\n".join(build_requires(pyproject)) + "\n")
    return path


def compile_all() -> None:
    BUILD_INPUTS.mkdir(parents=True, exist_ok=True)
    app_build, ui_build = _build_input("app", APP_PYPROJECT), _build_input("ui", UI_PYPROJECT)
    inputs = {
        "app": [APP_PYPROJECT, app_build.relative_to(REPO_ROOT)],
        "ui": [UI_PYPROJECT, ui_build.relative_to(REPO_ROOT)],
    }
    shared = BUILD_INPUTS / "app-without-torch.txt"
    try:
        _compile(APP_CPU, inputs["app"], [], [])
        _compile(APP_CUDA, inputs["app"], [_without_torch(APP_CPU, shared)], [])
        _compile(
            DEVELOPMENT, [ROOT_PYPROJECT, *inputs["app"], *inputs["ui"]], [APP_CPU.path], ["dev", "bench"]
        )
        _compile(UI, inputs["ui"], [DEVELOPMENT.path], [])
    finally:
        for path in (shared, app_build, ui_build):
            path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m florai_dev.locks", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["compile", "check"])
    args = parser.parse_args(argv)
    try:
        if args.command == "compile":
            compile_all()
        found = [p for lock in LOCKS for p in problems(lock)]
        found += disagreements(APP_CPU, DEVELOPMENT) + disagreements(APP_CPU, APP_CUDA)
        found += disagreements(UI, DEVELOPMENT)
    except LockError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
