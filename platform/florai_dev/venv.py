"""`make venv`: the virtualenv from the hashed lock, with progress, on the machine's own Python.

    python3.11 platform/florai_dev/venv.py .venv

Steps, each announced with its elapsed time: create the venv; torch's CPU build (from the
machine's wheel folder when pip is configured with one, else from PyTorch's CPU index: never
PyPI's CUDA build); every other pin of requirements.lock, hash-checked, no resolution; the two
repository packages (editable); the pinned tools (kubectl). Standard library only.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script, before any venv

from florai_dev.locks import DEVELOPMENT, REPO_ROOT, TORCH_CPU_INDEX, local_torch_cpu_dir  # noqa: E402

PIP_QUIET = ["--disable-pip-version-check", "--no-input"]
PROGRESS_EVERY = 20  # packages between two progress lines


class Steps:
    def __init__(self, total: int) -> None:
        self.total = total
        self.number = 0
        self.started = time.monotonic()

    def announce(self, text: str) -> None:
        self.number += 1
        elapsed = time.monotonic() - self.started
        print(f"[{self.number}/{self.total} {elapsed:5.1f}s] {text}", flush=True)


def torch_requirement(lock: Path, into: Path) -> Path:
    """The lock's torch entry (with its hashes) alone, as a requirements file."""
    lines, keep = [], False
    for line in lock.read_text().splitlines():
        if not line.startswith(" "):
            keep = line.startswith("torch==")
        if keep and not line.strip().startswith("#"):
            lines.append(line)
    if not lines:
        raise SystemExit(f"error: {lock.name} pins no torch: run `make lock`")
    into.write_text("\n".join(lines) + "\n")
    return into


def run_pip(python: Path, args: list[str], count_from: str | None = None) -> None:
    """pip with its output reduced to a progress line every PROGRESS_EVERY packages."""
    argv = [str(python), "-m", "pip", *args, *PIP_QUIET]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    tail: list[str] = []
    seen = 0
    for line in proc.stdout:
        if "is ignored: it is neither a file nor a directory" in line:
            continue  # a machine's pip config naming index folders it lacks: noise, not news
        tail = (tail + [line.rstrip()])[-15:]
        if count_from and line.startswith(count_from):
            seen += 1
            if seen % PROGRESS_EVERY == 0:
                print(f"      {seen} packages checked...", flush=True)
        elif count_from and line.startswith("Installing collected packages:"):
            print(f"      {seen} packages checked; installing them (the longest part)...", flush=True)
    if proc.wait() != 0:
        print("\n".join(tail), file=sys.stderr)
        raise SystemExit(f"error: `pip {' '.join(args[:2])}` failed in {python.parent.parent}")


def main(argv: list[str]) -> int:
    venv = Path(argv[0] if argv else ".venv")
    python = venv / "bin" / "python"
    steps = Steps(5)
    steps.announce(f"virtualenv {venv} (Python {sys.version.split()[0]})")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    lock = DEVELOPMENT.path
    with tempfile.TemporaryDirectory() as tmp:
        torch_req = torch_requirement(lock, Path(tmp) / "torch.txt")
        local = local_torch_cpu_dir()
        source = ["--no-index", "--find-links", local] if local else ["--index-url", TORCH_CPU_INDEX]
        where = f"the wheel folder {local}" if local else TORCH_CPU_INDEX
        steps.announce(f"torch, CPU build, from {where} (about 40 s)")
        run_pip(python, ["install", "--no-deps", "--require-hashes", *source, "-r", str(torch_req)])
    pins = sum(
        1 for line in lock.read_text().splitlines() if "==" in line and not line.startswith((" ", "#"))
    )
    steps.announce(f"{pins} pinned packages from {lock.name}, hash-checked")
    run_pip(python, ["install", "--no-deps", "--require-hashes", "-r", str(lock)], count_from="Collecting")
    steps.announce("the repository's packages (editable): florai-platform, florai, florai-ui")
    editable = ["install", "--no-deps", "--no-build-isolation", "--quiet", "-e", str(REPO_ROOT)]
    run_pip(python, [*editable, "-e", str(REPO_ROOT / "apps"), "-e", str(REPO_ROOT / "apps" / "ui")])
    steps.announce("pinned tools into the venv: kubectl")
    done = subprocess.run([str(python), "-m", "florai_dev.tools", "install"])
    if done.returncode != 0:
        return done.returncode
    print(f"ready in {time.monotonic() - steps.started:.0f}s: {venv}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
