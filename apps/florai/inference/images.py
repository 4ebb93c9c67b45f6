"""Untrusted image bytes -> RGB picture -> normalised tensor, and the Grad-CAM overlay PNG.

Every failure is an ``ImageError`` whose message can be shown to the client: unsupported
formats (HTTP 415), corrupt or truncated data and decompression bombs (HTTP 422). The pixel
count is checked from the header, before a single pixel is decoded.
"""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from florai.contract import MAX_IMAGE_PIXELS

if TYPE_CHECKING:
    import torch

    from florai.models.manifest import ModelManifest

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
# Pillow's own bomb guard agrees with the contract (it raises beyond twice this many pixels).
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
# Longest side of the Grad-CAM overlay PNG (keeps the base64 response small).
OVERLAY_MAX_SIDE = 384
OVERLAY_HEAT_WEIGHT = 0.5
# zlib level of the overlay PNG: level 1 encoded a 240x240 overlay in 7.6 ms against 38 ms at the
# default level (6) on this repository's VM, for 16% more bytes; the encode was most of explain's cost.
OVERLAY_PNG_COMPRESSION = 1


class ImageError(ValueError):
    """The upload is not an image this service can use; the message says why."""


class UnsupportedImageError(ImageError):
    """A recognisable image in a format the service does not accept (HTTP 415)."""


class CorruptImageError(ImageError):
    """Not decodable: random bytes, truncated or damaged data (HTTP 422)."""


class DecompressionBombError(ImageError):
    """Declares more pixels than contract.MAX_IMAGE_PIXELS (HTTP 422)."""


def _open(data: bytes) -> Image.Image:
    if not data:
        raise CorruptImageError("empty upload: no image data")
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(f"image declares too many pixels (limit {MAX_IMAGE_PIXELS})") from exc
    except UnidentifiedImageError as exc:
        raise CorruptImageError("not a recognisable image (corrupt data or not an image)") from exc
    except Exception as exc:  # hostile bytes can make a format plugin raise almost anything
        raise CorruptImageError(f"cannot read the image header ({exc})") from exc
    if img.format not in ALLOWED_FORMATS:
        raise UnsupportedImageError(f"{img.format} images are not accepted; send JPEG, PNG or WebP")
    width, height = img.size
    if width * height > MAX_IMAGE_PIXELS:
        raise DecompressionBombError(
            f"image is {width}x{height} = {width * height} pixels, more than the limit of {MAX_IMAGE_PIXELS}"
        )
    return img


def declared_pixels(data: bytes) -> int:
    """Width x height that an upload's header declares (read without decoding a pixel); 0 when the
    header is not an image's: the decoder then refuses it, at the cost of one image."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
    except Exception:  # any refusal is the decoder's to report, with its own message
        return 0
    return width * height


def decode_image(data: bytes, min_size: tuple[int, int] | None = None) -> Image.Image:
    """Decode JPEG/PNG/WebP bytes to an upright RGB image.

    ``min_size`` (height, width) lets JPEG decoding scale down in the DCT (much faster) while
    keeping at least that many pixels on each side; preprocessing needs no more.
    """
    img = _open(data)
    try:
        if min_size is not None and img.format == "JPEG":
            height, width = min_size
            # draft() keeps both sides >= the request, so the centre crop still has full resolution.
            scale = max(height / img.height, width / img.width)
            img.draft("RGB", (max(1, int(img.width * scale + 0.5)), max(1, int(img.height * scale + 0.5))))
        img.load()
        img = ImageOps.exif_transpose(img) or img
        return img if img.mode == "RGB" else img.convert("RGB")
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(f"image declares too many pixels (limit {MAX_IMAGE_PIXELS})") from exc
    except Exception as exc:  # decoders and EXIF parsing fail in many ways on damaged data; none is a 500
        raise CorruptImageError(f"image data is corrupt or truncated ({exc})") from exc


def centre_crop_box(size: tuple[int, int], target: tuple[int, int]) -> tuple[float, float, float, float]:
    """Largest centred box of ``target``'s (height, width) aspect in an image of ``size`` (width, height)."""
    width, height = size
    target_h, target_w = target
    scale = min(width / target_w, height / target_h)
    box_w, box_h = target_w * scale, target_h * scale
    left, top = (width - box_w) / 2, (height - box_h) / 2
    return (left, top, left + box_w, top + box_h)


@functools.lru_cache(maxsize=16)
def _normaliser(mean: tuple[float, ...], std: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (scale, shift) so that ``pixel * scale + shift == (pixel / 255 - mean) / std``."""
    scale = np.array([1.0 / (255.0 * s) for s in std], dtype=np.float32)
    shift = np.array([-m / s for m, s in zip(mean, std, strict=True)], dtype=np.float32)
    return scale, shift


def preprocess(img: Image.Image, manifest: ModelManifest) -> torch.Tensor:
    """Centre-crop to the input aspect and resize in one Pillow step (antialiased bilinear), then
    normalise with the manifest's mean/std: a contiguous float32 tensor [3, H, W].

    Only Pillow and NumPy do the work (both release the GIL): torch ops here would start an OpenMP
    thread team in every decode thread, and those teams spin against the forward pass's own.
    """
    height, width = manifest.input_size
    if img.mode != "RGB":
        img = img.convert("RGB")
    # Crop first: resizing with a box would let the filter read pixels outside the crop.
    crop = img.crop(tuple(round(v) for v in centre_crop_box(img.size, (height, width))))
    if crop.size != (width, height):
        crop = crop.resize((width, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(crop, dtype=np.uint8)
    scale, shift = _normaliser(tuple(manifest.mean), tuple(manifest.std))
    out = np.empty((3, height, width), dtype=np.float32)
    for channel in range(3):
        np.multiply(pixels[:, :, channel], scale[channel], out=out[channel], casting="unsafe")
        out[channel] += shift[channel]
    import torch  # here, not at the top: the server process reads headers only and never imports torch

    return torch.from_numpy(out)


def decode_for_model(data: bytes, manifest: ModelManifest) -> tuple[Image.Image, torch.Tensor]:
    """``decode_image`` with the manifest's DCT-scaling hint, then ``preprocess``: the fast serving path."""
    img = decode_image(data, min_size=tuple(manifest.input_size))
    return img, preprocess(img, manifest)


def _heat_colours(heat: np.ndarray) -> np.ndarray:
    """A jet-like colour map (blue -> cyan -> yellow -> red) for values in [0, 1]: uint8 [H, W, 3]."""
    h = np.clip(heat, 0.0, 1.0)[..., None]
    red = np.clip(1.5 - np.abs(4.0 * h - 3.0), 0.0, 1.0)
    green = np.clip(1.5 - np.abs(4.0 * h - 2.0), 0.0, 1.0)
    blue = np.clip(1.5 - np.abs(4.0 * h - 1.0), 0.0, 1.0)
    return (np.concatenate([red, green, blue], axis=-1) * 255.0).astype(np.uint8)


def heatmap_overlay_png(img: Image.Image, heatmap: np.ndarray) -> bytes:
    """PNG of the centre crop the model saw, with the heat map (values in [0, 1]) blended over it."""
    heat_h, heat_w = heatmap.shape
    box = centre_crop_box(img.size, (heat_h, heat_w))
    crop_w, crop_h = box[2] - box[0], box[3] - box[1]
    scale = min(1.0, OVERLAY_MAX_SIDE / max(crop_w, crop_h))
    out_size = (max(1, round(crop_w * scale)), max(1, round(crop_h * scale)))
    base = img.convert("RGB").resize(out_size, Image.Resampling.BILINEAR, box=box)
    heat = Image.fromarray((np.clip(heatmap, 0.0, 1.0) * 255.0).astype(np.uint8))
    heat = np.asarray(heat.resize(out_size, Image.Resampling.BILINEAR), dtype=np.float32) / 255.0
    colours = Image.fromarray(_heat_colours(heat))
    overlay = Image.blend(base, colours, OVERLAY_HEAT_WEIGHT)
    out = io.BytesIO()
    overlay.save(out, format="PNG", compress_level=OVERLAY_PNG_COMPRESSION)
    return out.getvalue()
