"""Fixtures that build the reference models once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def reference_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Task -> folder holding that task's reference model (model.pt2 + manifest.json), catalogue labels.

    Built once per session (a few seconds); treat the folders as read-only (copy one to alter it).
    """
    from florai.models.reference import build_all

    return build_all(tmp_path_factory.mktemp("reference-models"))
