"""The Grad-CAM view: the API's overlay blended back over the photo at the chosen opacity."""

from __future__ import annotations

import base64
import io

from PIL import Image, ImageOps


def decode_png(encoded: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGB")


def with_opacity(photo: bytes, overlay: Image.Image, opacity: float) -> Image.Image:
    """``overlay`` (the API's heat map over the centre crop) at ``opacity`` over the same crop of ``photo``.

    0 shows the crop the model saw, 1 the API's overlay as sent.
    """
    base = ImageOps.fit(Image.open(io.BytesIO(photo)).convert("RGB"), overlay.size, Image.Resampling.BILINEAR)
    return Image.blend(base, overlay, max(0.0, min(1.0, opacity)))
