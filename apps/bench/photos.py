"""Deterministic photo-like JPEGs for the benchmarks: smooth gradients, soft leaf-like blobs, sensor noise."""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image

PHOTO_SIZE = (640, 480)
JPEG_QUALITY = 85
JPEG_SOI = b"\xff\xd8"
JPEG_COMMENT = b"\xff\xfe"


def photo_jpeg(seed: int, size: tuple[int, int] = PHOTO_SIZE) -> bytes:
    """One 640x480 JPEG: a sky-to-soil gradient, a few green ellipses, and mild noise (seeded)."""
    width, height = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    top, bottom = rng.uniform(60, 200, 3), rng.uniform(30, 120, 3)
    pixels = top + (bottom - top) * (y / height)[..., None]
    for _ in range(6):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        rx, ry = rng.uniform(40, 160), rng.uniform(20, 90)
        inside = np.exp(-(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2))[..., None]
        leaf = np.array([rng.uniform(20, 80), rng.uniform(110, 200), rng.uniform(20, 70)])
        pixels = pixels * (1 - inside) + leaf * inside
    pixels += rng.normal(0, 6, pixels.shape)
    out = io.BytesIO()
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def photo_set(count: int) -> list[bytes]:
    return [photo_jpeg(seed) for seed in range(count)]


def unique_variant(jpeg: bytes, serial: int) -> bytes:
    """The same picture with a JPEG comment carrying ``serial``: new bytes (a cache miss), same pixels."""
    comment = f"bench {serial}".encode()
    return JPEG_SOI + JPEG_COMMENT + struct.pack(">H", len(comment) + 2) + comment + jpeg[len(JPEG_SOI) :]
