"""Photos for the UI tests: real JPEG files, made here (deterministic), and broken ones."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw

from florai import contract


def leaf_jpeg(seed: int = 0, size: tuple[int, int] = (320, 240)) -> bytes:
    """A green leaf-like shape with brown spots on a noisy background, as JPEG."""
    rng = random.Random(seed)
    image = Image.new(
        "RGB", size, (rng.randrange(150, 200), rng.randrange(170, 210), rng.randrange(120, 160))
    )
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse((w * 0.15, h * 0.2, w * 0.85, h * 0.8), fill=(40, 120 + rng.randrange(40), 40))
    for _ in range(12):
        x, y, r = rng.uniform(0.3, 0.7) * w, rng.uniform(0.35, 0.65) * h, rng.uniform(3, 9)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(110, 70, 30))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def truncated_jpeg() -> bytes:
    """A JPEG cut off half way: the API answers 422 invalid_image."""
    data = leaf_jpeg(99)
    return data[: len(data) // 2]


def not_an_image() -> bytes:
    return b"%PDF-1.7 this is a document, not a photo\n" * 10


def oversized_jpeg_bytes() -> bytes:
    """A JPEG header followed by more bytes than one image may have: the API answers 413."""
    return b"\xff\xd8\xff\xe0" + b"\0" * contract.MAX_IMAGE_BYTES
