"""API test fixtures: an app on embedded defaults (SQLite in a tmp dir, reference models) and test images."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from florai.api import create_app
from florai.settings import Settings

DEV_KEY = "test-development-key-0123456789"
DEV_USER = "dev"


def png_bytes(colour: tuple[int, int, int] = (40, 150, 60), size: tuple[int, int] = (240, 180)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="session")
def models_dir(reference_models: dict[str, Path]) -> str:
    parents = {p.parent for p in reference_models.values()}
    assert len(parents) == 1
    return str(parents.pop())


@pytest.fixture(scope="module")
def make_settings(tmp_path_factory, models_dir) -> Callable[..., Settings]:
    def build(**overrides) -> Settings:
        values = {"data_dir": tmp_path_factory.mktemp("data"), "models_dir": models_dir, "api_key": DEV_KEY}
        return Settings(**{**values, **overrides})

    return build


@pytest.fixture(scope="module")
def serve(make_settings) -> Callable:
    @contextmanager
    def running(**overrides) -> Iterator[TestClient]:
        # raise_server_exceptions: a bug reaching the catch-all handler fails the test loudly.
        with TestClient(create_app(make_settings(**overrides)), raise_server_exceptions=True) as client:
            yield client

    return running


@pytest.fixture(scope="module")
def client(serve) -> Iterator[TestClient]:
    with serve() as c:
        yield c


@pytest.fixture
def dev_headers() -> dict[str, str]:
    return {"X-API-Key": DEV_KEY}


@pytest.fixture(scope="session")
def make_png() -> Callable[..., bytes]:
    return png_bytes
