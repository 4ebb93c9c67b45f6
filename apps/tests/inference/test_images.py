"""Image decoding and preprocessing on real, crafted bytes: every error class, EXIF, crop, overlay."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from florai.contract import MAX_IMAGE_PIXELS
from florai.inference.images import (
    OVERLAY_MAX_SIDE,
    CorruptImageError,
    DecompressionBombError,
    ImageError,
    UnsupportedImageError,
    decode_for_model,
    decode_image,
    heatmap_overlay_png,
    preprocess,
)
from florai.models.manifest import IMAGENET_MEAN, IMAGENET_STD, ModelManifest

MANIFEST = ModelManifest(
    name="identify",
    version="1",
    task="identify",
    format="torch.export",
    artifact="model.pt2",
    sha256="0" * 64,
    labels=("a", "b"),
    input_size=(224, 224),
    mean=IMAGENET_MEAN,
    std=IMAGENET_STD,
)


def encode(img: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **options)
    return out.getvalue()


def photo(width: int = 640, height: int = 480) -> Image.Image:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([x / width * 255, y / height * 255, np.full_like(x, 90)], axis=-1)
    pixels = pixels + rng.normal(0, 12, pixels.shape)
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_claiming_size(width: int, height: int) -> bytes:
    """A valid PNG header (IHDR) claiming a size, followed by a few bytes of pixel data only."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_accepted_formats_decode_to_rgb(fmt: str) -> None:
    img = decode_image(encode(photo(64, 48), fmt))
    assert img.mode == "RGB" and img.size == (64, 48)


def test_alpha_and_palette_images_become_rgb() -> None:
    rgba = Image.new("RGBA", (10, 10), (10, 200, 30, 128))
    assert decode_image(encode(rgba, "PNG")).mode == "RGB"
    palette = photo(32, 32).convert("P")
    assert decode_image(encode(palette, "PNG")).mode == "RGB"


def test_exif_orientation_is_applied() -> None:
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    assert decode_image(encode(img, "JPEG", exif=exif.tobytes())).size == (20, 40)


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_formats_are_unsupported(fmt: str) -> None:
    with pytest.raises(UnsupportedImageError, match=f"{fmt} images are not accepted"):
        decode_image(encode(photo(16, 16), fmt))


def test_random_bytes_are_corrupt() -> None:
    data = np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(CorruptImageError, match="not a recognisable image"):
        decode_image(data)
    with pytest.raises(CorruptImageError, match="empty"):
        decode_image(b"")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_images_are_corrupt(fmt: str) -> None:
    data = encode(photo(), fmt)
    with pytest.raises(CorruptImageError):
        decode_image(data[: len(data) // 2])


def test_damaged_jpeg_header_is_corrupt() -> None:
    data = bytearray(encode(photo(64, 48), "JPEG"))
    data[20:200] = b"\x00" * 180
    with pytest.raises(ImageError):
        decode_image(bytes(data))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bombs_are_refused_before_decoding() -> None:
    # Far beyond the limit: Pillow's own guard fires while reading the header.
    with pytest.raises(DecompressionBombError, match="too many pixels"):
        decode_image(png_claiming_size(50_000, 50_000))
    # Just beyond the contract's limit: our header check refuses it (no pixel data exists to decode).
    width = 8000
    height = MAX_IMAGE_PIXELS // width + 1
    with pytest.raises(DecompressionBombError, match=f"{width}x{height}"):
        decode_image(png_claiming_size(width, height))


def test_jpeg_draft_decodes_smaller_but_covers_the_input() -> None:
    data = encode(photo(1600, 1200), "JPEG", quality=90)
    small = decode_image(data, min_size=(224, 224))
    assert small.width >= 224 and small.height >= 224
    assert small.width < 1600
    assert decode_image(data).size == (1600, 1200)


def test_preprocess_normalises_with_the_manifest_statistics() -> None:
    white = preprocess(Image.new("RGB", (300, 500), (255, 255, 255)), MANIFEST)
    assert white.shape == (3, 224, 224) and white.dtype == torch.float32 and white.is_contiguous()
    for channel in range(3):
        expected = (1.0 - IMAGENET_MEAN[channel]) / IMAGENET_STD[channel]
        assert torch.allclose(white[channel], torch.full((224, 224), expected), atol=1e-4)


def test_preprocess_takes_the_centre_crop() -> None:
    # 400x200: red left quarter, green centre half, blue right quarter; the crop is the green square.
    pixels = np.zeros((200, 400, 3), dtype=np.uint8)
    pixels[:, :100] = (255, 0, 0)
    pixels[:, 100:300] = (0, 255, 0)
    pixels[:, 300:] = (0, 0, 255)
    tensor = preprocess(Image.fromarray(pixels), MANIFEST)
    green_level = (1.0 - IMAGENET_MEAN[1]) / IMAGENET_STD[1]
    red_floor = (0.0 - IMAGENET_MEAN[0]) / IMAGENET_STD[0]
    assert torch.allclose(tensor[1], torch.full((224, 224), green_level), atol=1e-3)
    assert torch.allclose(tensor[0], torch.full((224, 224), red_floor), atol=1e-3)


def test_decode_for_model_gives_the_model_tensor() -> None:
    img, tensor = decode_for_model(encode(photo(), "JPEG"), MANIFEST)
    assert img.mode == "RGB"
    assert tensor.shape == (3, *MANIFEST.input_size)
    assert torch.isfinite(tensor).all()


def test_heatmap_overlay_is_a_png_hot_where_the_map_is_high() -> None:
    grey = Image.new("RGB", (640, 480), (128, 128, 128))
    heat = np.zeros((224, 224), dtype=np.float32)
    heat[:, :112] = 1.0
    png = heatmap_overlay_png(grey, heat)
    overlay = Image.open(io.BytesIO(png))
    assert overlay.format == "PNG" and overlay.mode == "RGB"
    assert max(overlay.size) <= OVERLAY_MAX_SIDE and overlay.size[0] == overlay.size[1]
    pixels = np.asarray(overlay, dtype=np.float32)
    left, right = pixels[:, : overlay.width // 4], pixels[:, -overlay.width // 4 :]
    assert left[..., 0].mean() > right[..., 0].mean() + 50  # red where the heat is
    assert right[..., 2].mean() > left[..., 2].mean() + 50  # blue where it is cold
