"""The image's requirements: exact pins of the root lock, runtime packages only; the Dockerfile's basics."""

from __future__ import annotations

import re
from pathlib import Path

from florai import contract

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
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{path.name}: {line!r} is not an exact pin"
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_every_image_pin_equals_the_root_lock():
    image, lock = _pins(APPS / "requirements.txt"), _pins(ROOT / "requirements.lock")
    assert image, "apps/requirements.txt is empty"
    assert {name: version for name, version in image.items() if lock.get(name) != version} == {}


def test_image_installs_the_runtime_and_no_infra_or_test_tooling():
    image = _pins(APPS / "requirements.txt")
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
        assert needed in image, needed
    assert [name for name in image if name.startswith(TOOLING)] == []


def test_dockerfile_runs_non_root_read_only_with_healthcheck():
    text = (APPS / "Dockerfile").read_text()
    froms = re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE)
    assert len(froms) == 2 and all(":" in f and not f.endswith(":latest") for f in froms)
    assert "ARG BASE_IMAGE=" in text
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
