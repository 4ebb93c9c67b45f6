"""The image's locks: the development lock's pins, runtime packages only; the Dockerfile's basics."""

from __future__ import annotations

import re
from pathlib import Path

from florai import contract
from florai_dev import locks

APPS = Path(__file__).resolve().parents[2]
ROOT = APPS.parent
# Tooling that must never reach the image.
TOOLING = (
    "pulumi",
    "pytest",
    "ruff",
    "moto",
    "checkov",
    "kubernetes-validate",
    "grafana",
    "promql",
    "httpx",
    "responses",
)


def _pins(path: Path) -> dict[str, str]:
    return {name: version for name, (version, _) in locks.read_pins(path).items()}


def test_every_image_pin_equals_the_development_lock():
    image, lock = _pins(APPS / "requirements.lock"), _pins(ROOT / "requirements.lock")
    assert image, "apps/requirements.lock is empty"
    assert {name: version for name, version in image.items() if lock.get(name) != version} == {}


def test_image_installs_the_runtime_and_no_infra_or_test_tooling():
    for lock in ("requirements.lock", "requirements-cuda.lock"):
        image = _pins(APPS / lock)
        for needed in (
            "fastapi",
            "uvicorn",
            "torch",
            "sqlalchemy",
            "alembic",
            "psycopg",
            "redis",
            "pillow",
            "boto3",
        ):
            assert needed in image, (lock, needed)
        assert [name for name in image if name.startswith(TOOLING)] == [], lock


def test_dockerfile_runs_non_root_read_only_with_healthcheck():
    text = (APPS / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, flags=re.MULTILINE)
    froms = re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE)
    # Every base is a pinned registry image (never :latest) or an earlier stage of this file.
    external = [f for f in froms if f not in stages]
    assert external and all(":" in f and not f.endswith(":latest") for f in external)
    assert "ARG TORCH_VARIANT=cpu" in text and "requirements-cuda.lock" in text
    assert re.search(r"^USER 10001", text, flags=re.MULTILINE)
    assert "HEALTHCHECK" in text and contract.HEALTH_PATH in text
    assert f"EXPOSE {contract.HTTP_PORT}" in text
    assert not re.search(r"^ADD\s", text, flags=re.MULTILINE)
    for env in (
        "HOME=/tmp",
        "TMPDIR=/tmp",
        "TORCH_HOME=/tmp",
        "MPLCONFIGDIR=/tmp",
        "PYTHONDONTWRITEBYTECODE=1",
    ):
        assert env in text, env
    runtime_stage = text.split(" AS runtime", 1)[1]
    assert "build-essential" not in runtime_stage and "apt-get install" not in runtime_stage
