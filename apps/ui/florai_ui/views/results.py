"""One photo's result: the top-k with confidence bars, the model, the heat map for a diagnosis."""

from __future__ import annotations

import streamlit as st

from florai_ui.api_client import Photo
from florai_ui.heatmap import decode_png, with_opacity

KEY_OPACITY = "heatmap_opacity"
HEATMAP_CAPTION = "Grad-CAM: where the model looked"


def top_k(response: dict) -> None:
    model = response.get("model") or {}
    st.caption(f"Model {model.get('name', '?')} version {model.get('version', '?')}")
    for rank, prediction in enumerate(response.get("predictions", []), start=1):
        confidence = float(prediction["confidence"])
        st.progress(confidence, text=f"{rank}. {prediction['name']} — {confidence:.1%}")


def heatmap(photo: Photo, response: dict) -> None:
    encoded = response.get("heatmap_png_base64")
    if not encoded:
        return
    opacity = st.slider("Heat-map opacity", 0.0, 1.0, 1.0, 0.05, key=KEY_OPACITY)
    left, right = st.columns(2)
    left.image(photo.data, caption=photo.name, width="stretch")
    blended = with_opacity(photo.data, decode_png(encoded), opacity)
    right.image(blended, caption=HEATMAP_CAPTION, width="stretch")
