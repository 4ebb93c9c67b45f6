"""The page's logic under Streamlit's AppTest against a real API (python -m florai, reference models).

One API server for the module; every test opens the page afresh, as a new browser session would.
"""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from ui_test_page import API_KEY, analyse_photos, errors, image_captions, open_page, progress_texts
from ui_test_photos import leaf_jpeg, not_an_image, oversized_jpeg_bytes, truncated_jpeg

from florai import contract as api_contract
from florai_ui import api_errors, batch_table, contract
from florai_ui.api_client import ApiClient, Photo
from florai_ui.batch_table import COLUMNS
from florai_ui.tasks import BY_TASK
from florai_ui.views import analyse, consent, details, results

pytestmark = pytest.mark.usefixtures("ui_settings")

IDENTIFY = BY_TASK[api_contract.TASK_IDENTIFY].label
DIAGNOSE = BY_TASK[api_contract.TASK_DIAGNOSE].label
GROWTH = BY_TASK[api_contract.TASK_GROWTH_STAGE].label
JPEG = "image/jpeg"


def api_get(api, path: str) -> dict:
    response = httpx.get(api.url + path, headers={api_contract.API_KEY_HEADER: API_KEY}, timeout=10)
    response.raise_for_status()
    return response.json()


def test_diagnose_shows_top_k_model_heatmap_and_disease_advice(api):
    at = analyse_photos(open_page(), DIAGNOSE, [("leaf.jpg", leaf_jpeg(1), JPEG)])

    assert errors(at) == [] and not at.exception
    bars = progress_texts(at)
    assert len(bars) == 5 and bars[0].startswith("1. ")
    assert any(c.value.startswith("Model diagnose version ") for c in at.caption)
    images = image_captions(at)
    assert set(images) == {"leaf.jpg", results.HEATMAP_CAPTION}
    # The advice is the catalogue entry of the top answer, fetched from the API.
    top_name = bars[0].removeprefix("1. ").rsplit(" — ", 1)[0]
    assert top_name in [s.value for s in at.subheader]
    assert [m.value for m in at.markdown if m.value in ("**Treatment**", "**Prevention**")] == [
        "**Treatment**",
        "**Prevention**",
    ]
    # The opacity slider re-blends the overlay without asking the API again.
    at.slider(key=results.KEY_OPACITY).set_value(0.2).run()
    assert image_captions(at)[results.HEATMAP_CAPTION] != images[results.HEATMAP_CAPTION]
    assert progress_texts(at) == bars


def test_identify_shows_species_care_and_no_heatmap(api):
    at = analyse_photos(open_page(), IDENTIFY, [("plant.jpg", leaf_jpeg(2), JPEG)])

    assert errors(at) == []
    assert any(c.value.startswith("Model identify version ") for c in at.caption)
    assert results.HEATMAP_CAPTION not in image_captions(at)
    care = [m.value for m in at.markdown if "**Light:**" in m.value]
    assert len(care) == 1 and "**Water:**" in care[0]


def test_a_camera_photo_is_analysed_like_an_upload(api):
    at = open_page()
    at.toggle(key=analyse.KEY_USE_CAMERA).set_value(True).run()
    at.camera_input(key=analyse.KEY_CAMERA).set_value(("shot.jpg", leaf_jpeg(6), JPEG))
    at.run()
    at.button(key=analyse.KEY_RUN).click().run()

    assert errors(at) == []
    assert len(progress_texts(at)) == 5
    assert any(c.value.startswith("Model identify version ") for c in at.caption)


def test_growth_stage_shows_the_timeline_of_the_plant_type(api):
    at = analyse_photos(open_page(), GROWTH, [("seedling.jpg", leaf_jpeg(3), JPEG)])
    assert errors(at) == []
    at.text_input(key=details.KEY_PLANT_TYPE).set_value("tomato").run()

    expected = api_get(api, f"{api_contract.API_PREFIX}/growth-stages/tomato")
    shown = " ".join(m.value for m in at.markdown)
    assert all(f"**{stage['name']}**" in shown for stage in expected["stages"])

    at.text_input(key=details.KEY_PLANT_TYPE).set_value("no-such-plant").run()
    assert any(w.value.startswith("Not found: ") for w in at.warning)


def test_several_photos_go_through_batch_as_a_table_and_csv(api):
    files = [(f"leaf-{i}.jpg", leaf_jpeg(10 + i), JPEG) for i in range(3)] + [
        ("broken.jpg", truncated_jpeg(), JPEG)
    ]
    at = analyse_photos(open_page(), IDENTIFY, files)

    assert errors(at) == []
    (table,) = [d for d in at.dataframe if "photo" in d.value.columns]
    assert list(table.value.columns) == list(COLUMNS)
    assert list(table.value["photo"]) == [name for name, _, _ in files]
    assert all(table.value["top answer"][:3]) and table.value["error"][3].startswith("422 invalid_image")
    (download,) = at.get("download_button")
    assert download.proto.label == "Download as CSV" and download.proto.url.endswith(".csv")
    # The same table as CSV, from the same API call the button's file is made of.
    client = ApiClient(api.url, {api_contract.API_KEY_HEADER: API_KEY}, contract.API_TIMEOUT_S)
    photos = [Photo(name, data, mime) for name, data, mime in files]
    table_csv = batch_table.to_csv(
        batch_table.rows(photos, client.batch(api_contract.TASK_IDENTIFY, photos, 5))
    )
    rows = list(csv.DictReader(io.StringIO(table_csv)))
    assert [r["photo"] for r in rows] == [name for name, _, _ in files]
    assert float(rows[0]["confidence"]) > 0 and rows[3]["error"].startswith("422 invalid_image")


@pytest.mark.parametrize(
    ("name", "data", "mime", "starts"),
    [
        ("huge.jpg", oversized_jpeg_bytes(), JPEG, "This photo is too large: the limit is 10 MiB"),
        ("document.jpg", not_an_image(), "application/pdf", "This file is not an image we can read."),
        (
            "broken.jpg",
            truncated_jpeg(),
            JPEG,
            "This image is damaged or incomplete and could not be decoded",
        ),
    ],
    ids=["413", "415", "422"],
)
def test_refusals_become_readable_messages(api, name, data, mime, starts):
    at = analyse_photos(open_page(), DIAGNOSE, [(name, data, mime)])

    (message,) = errors(at)
    assert message.startswith(starts), message
    assert progress_texts(at) == [] and not at.exception


def test_consent_change_is_saved_audited_and_usage_counted(api):
    analyse_photos(open_page(), IDENTIFY, [("counted.jpg", leaf_jpeg(4), JPEG)])
    at = open_page()
    before = api_get(api, f"{api_contract.API_PREFIX}/consent")
    at.toggle(key=consent.KEY_STORE).set_value(not before["store_images"])
    at.button(key=consent.KEY_SAVE).click().run()

    assert consent.SAVED in [s.value for s in at.success], [e.value for e in at.error]
    after = api_get(api, f"{api_contract.API_PREFIX}/consent")
    assert after["store_images"] is not before["store_images"] and after["version"] == before["version"] + 1
    (audit,) = [d for d in at.dataframe if "field" in d.value.columns]
    assert "store_images" in list(audit.value["field"])
    usage = {m.label: m.value for m in at.metric}
    assert int(usage["Photos discarded"]) + int(usage["Photos kept"]) >= 1


def test_erasure_is_offered_exactly_when_the_api_has_it(api):
    document = httpx.get(api.url + contract.OPENAPI_PATH, timeout=10).json()
    offered = "delete" in document["paths"].get(contract.ERASURE_PATH, {})
    at = open_page()

    buttons = [b.label for b in at.button]
    assert ("Erase my data" in buttons) is offered
    if offered:
        at.checkbox(key=consent.KEY_ERASE_CONFIRM).check().run()
        at.button(key=consent.KEY_ERASE).click().run()
        assert consent.ERASED in [s.value for s in at.success]


def test_a_refused_service_key_tells_who_can_fix_it(api, monkeypatch):
    """Without sign-in the calls carry the UI's own key: a 401 is the operators' to fix, not the
    person's, so the page does not tell them to sign in (there is no sign-in)."""
    monkeypatch.setenv("FLORAI_UI_API_KEY", "fl_revoked-or-never-issued")
    at = open_page()
    assert errors(at) and set(errors(at)) == {api_errors.KEY_REFUSED}
    assert all(b.label != "Sign in" for b in at.button)
