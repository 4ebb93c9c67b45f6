"""The main tab: photos in (upload or camera), one analysis chosen, results out.

One photo goes to the task's own route (with the heat map for a diagnosis); several go
through /batch in one call and come back as a table with a CSV download.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from florai import contract as api_contract
from florai_ui import batch_table
from florai_ui.api_client import ApiCallError, ApiClient, Photo
from florai_ui.tasks import ANALYSES, BY_LABEL, BY_TASK
from florai_ui.views import details, results

KEY_ANALYSIS = "analysis"
KEY_UPLOADS = "uploads"
KEY_USE_CAMERA = "use_camera"
KEY_CAMERA = "camera"
KEY_TOP_K = "top_k"
KEY_RUN = "run"
KEY_RESULT = "result"  # session state: the last answer, shown again on every rerun (e.g. the opacity slider)
PHOTO_TYPES = ["jpg", "jpeg", "png", "webp"]
DEFAULT_TOP_K = 5
MAX_TOP_K = 10
CSV_NAME = "florai-results.csv"


@dataclass(frozen=True)
class Answer:
    task: str
    photos: tuple[Photo, ...]
    response: dict


def chosen_photos() -> list[Photo]:
    photos = [
        Photo(f.name, f.getvalue(), f.type or "application/octet-stream")
        for f in st.session_state.get(KEY_UPLOADS) or []
    ]
    snapshot = st.session_state.get(KEY_CAMERA) if st.session_state.get(KEY_USE_CAMERA) else None
    if snapshot is not None:
        photos.append(Photo("camera.jpg", snapshot.getvalue(), snapshot.type or "image/jpeg"))
    return photos


def analyse(client: ApiClient, task: str, photos: list[Photo], k: int) -> Answer:
    if len(photos) == 1:
        explain = BY_TASK[task].explains
        return Answer(task, tuple(photos), client.predict(task, photos[0], k, explain=explain))
    return Answer(task, tuple(photos), client.batch(task, photos, k))


def inputs() -> tuple[str, list[Photo], int]:
    labels = [a.label for a in ANALYSES]
    label = st.radio("What should FlorAI look for?", labels, key=KEY_ANALYSIS, horizontal=True)
    st.file_uploader(
        f"Photos (one, or up to {api_contract.MAX_BATCH_ITEMS} at once)",
        type=PHOTO_TYPES,
        accept_multiple_files=True,
        key=KEY_UPLOADS,
    )
    if st.toggle("Use the camera", key=KEY_USE_CAMERA):
        st.camera_input("Take a photo", key=KEY_CAMERA)
    k = st.slider("How many answers", 1, MAX_TOP_K, DEFAULT_TOP_K, key=KEY_TOP_K)
    return BY_LABEL[label].task, chosen_photos(), k


def show(client: ApiClient, answer: Answer) -> None:
    if len(answer.photos) == 1:
        results.top_k(answer.response)
        results.heatmap(answer.photos[0], answer.response)
        details.render(client, answer.task, answer.response)
        return
    table = batch_table.rows(answer.photos, answer.response)
    st.dataframe(table, hide_index=True)
    st.download_button("Download as CSV", batch_table.to_csv(table), file_name=CSV_NAME, mime="text/csv")


def render(client: ApiClient) -> None:
    task, photos, k = inputs()
    if st.button("Analyse", type="primary", key=KEY_RUN, disabled=not photos):
        try:
            st.session_state[KEY_RESULT] = analyse(client, task, photos, k)
        except ApiCallError as problem:
            st.session_state.pop(KEY_RESULT, None)
            st.error(problem.message)
    answer = st.session_state.get(KEY_RESULT)
    if answer is not None:
        show(client, answer)
