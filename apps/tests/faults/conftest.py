"""Fault-test fixtures: the app against real PostgreSQL / Redis servers that the tests stop and restart."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image


@pytest.fixture(scope="session")
def fault_models_dir(reference_models: dict[str, Path]) -> str:
    return str(next(iter(reference_models.values())).parent)


@pytest.fixture(scope="session")
def png() -> Callable[[tuple[int, int, int]], bytes]:
    def make(colour: tuple[int, int, int]) -> bytes:
        buf = io.BytesIO()
        Image.new("RGB", (200, 160), colour).save(buf, "PNG")
        return buf.getvalue()

    return make
