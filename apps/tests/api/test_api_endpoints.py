"""Every endpoint's happy path, with response schemas checked against the Pydantic models."""

from __future__ import annotations

import base64

import pytest

from florai import contract
from florai.api.schemas import (
    AuditResponse,
    BatchResponse,
    ConsentResponse,
    DiagnosisResponse,
    PredictionResponse,
    Readiness,
    UsageResponse,
)
from florai.catalogue import load_catalogue
from florai.inference.engine import ThreadRunner
from florai.inference.worker import WorkerPool

API = contract.API_PREFIX
CATALOGUE = load_catalogue()


def test_identify_multipart_topk_names_and_cache(client, dev_headers, make_png):
    image = make_png((10, 200, 30))
    r = client.post(f"{API}/identify", files={"file": ("leaf.png", image, "image/png")}, headers=dev_headers)
    assert r.status_code == 200, r.text
    body = PredictionResponse.model_validate(r.json())
    assert body.task == "identify" and body.cache == "miss" and len(body.predictions) == 5
    assert body.model.version == "0.1.0-reference"
    confidences = [p.confidence for p in body.predictions]
    assert confidences == sorted(confidences, reverse=True) and 0 < sum(confidences) <= 1.0001
    for p in body.predictions:
        assert p.name == CATALOGUE.species[p.id].common_name
    again = client.post(
        f"{API}/identify?k=2", files={"file": ("leaf.png", image, "image/png")}, headers=dev_headers
    ).json()
    assert again["cache"] == "hit" and again["predictions"] == r.json()["predictions"][:2]


def test_identify_json_with_metadata(client, dev_headers, make_png):
    payload = {
        "image_base64": base64.b64encode(make_png((90, 90, 20))).decode(),
        "organ": "flower",
        "location": {"lat": 48.85, "lon": 2.35},
    }
    r = client.post(f"{API}/identify?k=1", json=payload, headers=dev_headers)
    assert r.status_code == 200, r.text
    body = PredictionResponse.model_validate(r.json())
    assert body.organ == "flower" and body.location.lat == 48.85 and len(body.predictions) == 1


def test_multipart_metadata_fields(client, dev_headers, make_png):
    r = client.post(
        f"{API}/identify",
        files={"file": ("x.png", make_png((1, 2, 3)), "image/png")},
        data={"organ": "bark", "lat": "10.5", "lon": "-20"},
        headers=dev_headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["organ"] == "bark" and r.json()["location"] == {"lat": 10.5, "lon": -20.0}


def test_diagnose_with_gradcam_overlay(client, dev_headers, make_png):
    r = client.post(
        f"{API}/diagnose?explain=true&k=3",
        files={"file": ("leaf.png", make_png((120, 160, 40)), "image/png")},
        headers=dev_headers,
    )
    assert r.status_code == 200, r.text
    body = DiagnosisResponse.model_validate(r.json())
    assert len(body.predictions) == 3 and body.explained_label == body.predictions[0].id
    assert body.predictions[0].name == CATALOGUE.diseases[body.predictions[0].id].name
    assert base64.b64decode(body.heatmap_png_base64).startswith(b"\x89PNG\r\n\x1a\n")
    plain = client.post(
        f"{API}/diagnose", files={"file": ("l.png", make_png((5, 5, 5)), "image/png")}, headers=dev_headers
    )
    assert plain.status_code == 200 and plain.json()["heatmap_png_base64"] is None


def test_growth_stage(client, dev_headers, make_png):
    r = client.post(
        f"{API}/growth-stage", files={"file": ("p.png", make_png(), "image/png")}, headers=dev_headers
    )
    assert r.status_code == 200, r.text
    body = PredictionResponse.model_validate(r.json())
    generic = {g.id for g in CATALOGUE.generic_stages}
    assert {p.id for p in body.predictions} <= generic


def test_batch_json_and_multipart_with_a_bad_item(client, dev_headers, make_png):
    good = base64.b64encode(make_png((200, 10, 10))).decode()
    items = [{"image_base64": good}, {"image_base64": base64.b64encode(b"not an image").decode()}]
    r = client.post(f"{API}/batch?task=identify&k=2", json={"items": items}, headers=dev_headers)
    assert r.status_code == 200, r.text
    body = BatchResponse.model_validate(r.json())
    assert [x.index for x in body.results] == [0, 1]
    assert len(body.results[0].result.predictions) == 2 and body.results[0].error is None
    assert body.results[1].error.status == 422 and "not a recognisable image" in body.results[1].error.detail
    files = [("files", (f"{i}.png", make_png((i, i, i)), "image/png")) for i in range(3)]
    r = client.post(f"{API}/batch?task=growth-stage", files=files, headers=dev_headers)
    assert r.status_code == 200 and all(
        x.result is not None for x in BatchResponse.model_validate(r.json()).results
    )


def test_catalogue_lookups(client, dev_headers):
    species_id = CATALOGUE.labels("identify")[0]
    r = client.get(f"{API}/species/{species_id}", headers=dev_headers)
    assert r.status_code == 200 and r.json()["id"] == species_id and r.json()["common_name"]
    disease_id = CATALOGUE.labels("diagnose")[0]
    r = client.get(f"{API}/diseases/{disease_id}", headers=dev_headers)
    assert r.status_code == 200 and r.json()["name"] == CATALOGUE.diseases[disease_id].name
    plant_type = next(iter(CATALOGUE.growth_stages))
    r = client.get(f"{API}/growth-stages/{plant_type}", headers=dev_headers)
    assert r.status_code == 200 and r.json()["stages"]


def test_consent_get_put_audit_usage(client, dev_headers, make_png):
    before = UsageResponse.model_validate(client.get(f"{API}/consent/usage", headers=dev_headers).json())
    files = {"file": ("leaf.png", make_png((7, 77, 177)), "image/png")}
    assert client.post(f"{API}/identify", files=files, headers=dev_headers).status_code == 200
    r = client.get(f"{API}/consent", headers=dev_headers)
    assert r.status_code == 200
    ConsentResponse.model_validate(r.json())
    r = client.put(f"{API}/consent", json={"allow_training": True}, headers=dev_headers)
    assert r.status_code == 200 and r.json()["allow_training"] is True
    audit = AuditResponse.model_validate(client.get(f"{API}/consent/audit", headers=dev_headers).json())
    assert audit.entries[0].field == "allow_training" and audit.entries[0].new_value is True
    usage = UsageResponse.model_validate(client.get(f"{API}/consent/usage", headers=dev_headers).json())
    assert usage.user_id == "dev" and usage.discarded == before.discarded + 1


def test_probes_metrics_and_openapi(client):
    assert client.get(contract.HEALTH_PATH).json() == {"status": "ok"}
    ready = Readiness.model_validate(client.get(contract.READY_PATH).json())
    assert ready.status == "ready" and ready.checks["database"] == "ok" and ready.not_ready == []
    schema = client.get("/openapi.json").json()
    upload = schema["paths"][f"{API}/identify"]["post"]["requestBody"]["content"]
    assert set(upload) == {"multipart/form-data", "application/json"}
    assert upload["application/json"]["schema"]["$ref"].split("/")[-1] in schema["components"]["schemas"]
    assert client.get("/docs").status_code == 200
    assert "florai_http_requests_total" in client.get(contract.METRICS_PATH).text


def test_worker_process_and_in_process_modes_answer_alike(serve, dev_headers, make_png):
    # The default runs decode + forward in a worker process; "thread" keeps them in the server.
    image, corrupt = make_png((90, 30, 160)), make_png()[:60]
    answers = {}
    for mode in ("process", "thread"):
        with serve(services=("identify",), inference_worker=mode) as c:
            runner = c.app.state.runtime.engines["identify"].runner
            assert isinstance(runner, WorkerPool if mode == "process" else ThreadRunner)
            ok = c.post(f"{API}/identify", files={"file": ("a.png", image, "image/png")}, headers=dev_headers)
            bad = c.post(
                f"{API}/identify", files={"file": ("b.png", corrupt, "image/png")}, headers=dev_headers
            )
            assert ok.status_code == 200, ok.text
            assert bad.status_code == 422 and bad.json()["code"] == "invalid_image"
            answers[mode] = (ok.json()["predictions"], bad.json()["detail"])
    (process_top, process_error), (thread_top, thread_error) = answers["process"], answers["thread"]
    assert [p["id"] for p in process_top] == [p["id"] for p in thread_top]
    assert [p["confidence"] for p in process_top] == pytest.approx(
        [p["confidence"] for p in thread_top], abs=1e-5
    )
    assert process_error == thread_error
