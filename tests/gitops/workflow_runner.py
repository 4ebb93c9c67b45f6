"""Run a workflow job's shell steps here, the way a GitHub runner would: bash -e, the step's `env:` with
its `${{ }}` expressions filled in (steps' outputs, inputs, vars, env, github), `$GITHUB_OUTPUT` and
`$GITHUB_STEP_SUMMARY` files, and the programs nothing here may call for real (docker, git) replaced by
recorders on PATH. The steps run in a scratch repository root holding a copy of what they read."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")
RECORDER = """#!/bin/sh
# Records its arguments, one call per line; `docker inspect` answers a RepoDigest for the image.
printf '%s\\n' "$(basename "$0") $*" >> "{log}"
if [ "$(basename "$0")" = docker ] && [ "$1" = inspect ]; then
  image="$(eval echo \\${$#})"
  printf '%s@sha256:%s\\n' "${image%:*}" "$(printf %s "$image" | sha256sum | cut -d' ' -f1)"
fi
"""


def scratch_root(tmp: Path, *paths: str) -> Path:
    """A repository root with copies of ``paths`` (files or folders) from this checkout."""
    for rel in paths:
        source, target = ROOT / rel, tmp / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    return tmp


def promotion_root(tmp: Path) -> Path:
    """A scratch root with what the promotion script reads: every deployable's overlays and the code."""
    from florai_gitops import promote

    return scratch_root(
        tmp,
        *(d.overlays.as_posix() for d in promote.DEPLOYABLES),
        "platform/florai_gitops",
        "platform/florai_infra/__init__.py",
        "platform/florai_infra/names.py",
    )


@dataclass
class Runner:
    root: Path
    context: dict[str, Any]  # inputs, vars, secrets, env, github
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    summary: str = ""

    def __post_init__(self) -> None:
        self.bin = self.root / ".fake-bin"
        self.bin.mkdir(exist_ok=True)
        self.log = self.root / ".calls.log"
        self.log.touch()
        for program in ("docker", "git"):
            path = self.bin / program
            path.write_text(RECORDER.replace("{log}", str(self.log)))
            path.chmod(0o755)
        # `python` is this interpreter (PyYAML is all the promotion script needs, as in the workflow).
        (self.bin / "python").symlink_to(sys.executable)

    def calls(self, program: str) -> list[list[str]]:
        return [
            shlex.split(line)[1:] for line in self.log.read_text().splitlines() if line.split()[0] == program
        ]

    def value(self, expression: str) -> str:
        head, *rest = expression.split(".")
        if head == "steps":
            step, kind, key = rest
            assert kind == "outputs", expression
            return self.outputs[step][key]
        value: Any = self.context[head]
        for part in rest:
            value = value[part]
        return str(value)

    def fill(self, text: str) -> str:
        return EXPRESSION.sub(lambda m: self.value(m.group(1)), text)

    def run(self, step: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        output = self.root / ".github-output"
        summary = self.root / ".github-step-summary"
        output.write_text("")
        summary.write_text("")
        env = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(self.root),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            **{k: str(v) for k, v in self.context.get("env", {}).items()},
            **{k: self.fill(str(v)) for k, v in step.get("env", {}).items()},
        }
        if "GITHUB_RUN_ID" in self.context.get("github", {}):
            env["GITHUB_RUN_ID"] = str(self.context["github"]["GITHUB_RUN_ID"])
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", self.fill(step["run"])],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"step {step.get('name')!r} failed:\n{done.stdout}\n{done.stderr}"
        if "id" in step:
            pairs = (line.partition("=") for line in output.read_text().splitlines() if line)
            self.outputs[step["id"]] = {key: value for key, _, value in pairs}
        self.summary += summary.read_text()
        return done


def step(job: dict[str, Any], name_starts: str) -> dict[str, Any]:
    (found,) = [s for s in job["steps"] if s.get("name", "").startswith(name_starts)]
    return found
