"""The benchmark's photos: deterministic, 640x480 JPEGs, and unique variants that decode identically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from florai.inference.images import decode_image

APPS_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def photos_module(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.syspath_prepend(str(APPS_DIR))  # apps/bench runs as a script, not an installed package
    from bench import photos

    return photos


def test_photos_are_deterministic_jpegs(photos_module) -> None:  # noqa: ANN001
    first, again = photos_module.photo_set(2), photos_module.photo_set(2)
    assert first == again and first[0] != first[1]
    img = decode_image(first[0])
    assert img.size == photos_module.PHOTO_SIZE


def test_unique_variants_differ_in_bytes_not_pixels(photos_module) -> None:  # noqa: ANN001
    jpeg = photos_module.photo_jpeg(3)
    a, b = photos_module.unique_variant(jpeg, 1), photos_module.unique_variant(jpeg, 2)
    assert len({jpeg, a, b}) == 3
    assert np.array_equal(np.asarray(decode_image(a)), np.asarray(decode_image(jpeg)))
    assert np.array_equal(np.asarray(decode_image(b)), np.asarray(decode_image(jpeg)))
