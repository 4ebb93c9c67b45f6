"""Load shedding, service selection, readiness, metrics by route template, traces, JSON logs and the
start-up heap kept out of garbage collection."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time

import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from florai import contract
from florai.api import create_app
from florai.observability import configure_tracing, instrument_app
from florai.observability.logs import REQUEST_ID, JsonFormatter

API = contract.API_PREFIX


class SlowModel:
    """Wraps a loaded model or worker so each forward pass takes a while (fills the batcher queue)."""

    def __init__(self, model, delay_s: float):
        self._model, self._delay_s = model, delay_s
        self.manifest, self.device = model.manifest, model.device

    def predict(self, batch):
        time.sleep(self._delay_s)
        return self._model.predict(batch)

    async def run_batch(self, jobs):
        await asyncio.sleep(self._delay_s)
        return await self._model.run_batch(jobs)


def test_queue_full_sheds_with_503_and_retry_after(make_settings, dev_headers, make_png):
    settings = make_settings(services=("identify",), max_queue=2, max_batch_size=1)
    app = create_app(settings)
    images = [make_png((i, 100, 200 - i)) for i in range(12)]  # distinct: no cache hits

    async def scenario():
        async with app.router.lifespan_context(app):
            batcher = app.state.runtime.engines["identify"].batcher
            batcher.model = SlowModel(batcher.model, 0.3)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                calls = [
                    client.post(
                        f"{API}/identify", files={"file": ("a.png", img, "image/png")}, headers=dev_headers
                    )
                    for img in images
                ]
                responses = await asyncio.gather(*calls)
                after = await client.post(
                    f"{API}/identify",
                    files={"file": ("b.png", make_png((0, 0, 0)), "image/png")},
                    headers=dev_headers,
                )
                return responses, after

    responses, after = asyncio.run(scenario())
    shed = [r for r in responses if r.status_code == 503]
    served = [r for r in responses if r.status_code == 200]
    assert shed and served and len(shed) + len(served) == len(images)
    assert all(r.headers["retry-after"] == "1" and r.json()["code"] == "queue_full" for r in shed)
    assert after.status_code == 200  # the worker is alive once the queue drains


class FlakyModel:
    """Wraps a loaded model so its first forward pass fails, as a GPU fault would."""

    def __init__(self, model):
        self._model, self.failures = model, 0
        self.manifest, self.device = model.manifest, model.device

    def _fail_once(self):
        if self.failures == 0:
            self.failures += 1
            raise RuntimeError("CUDA error: an illegal memory access was encountered")

    def predict(self, batch):
        self._fail_once()
        return self._model.predict(batch)

    async def run_batch(self, jobs):
        self._fail_once()
        return await self._model.run_batch(jobs)


def test_failed_forward_is_503_and_the_worker_keeps_serving(make_settings, dev_headers, make_png):
    app = create_app(make_settings(services=("identify",)))

    async def scenario():
        async with app.router.lifespan_context(app):
            batcher = app.state.runtime.engines["identify"].batcher
            batcher.model = FlakyModel(batcher.model)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                upload = {"file": ("a.png", make_png((10, 160, 40)), "image/png")}
                failed = await client.post(f"{API}/identify", files=upload, headers=dev_headers)
                retried = await client.post(f"{API}/identify", files=upload, headers=dev_headers)
                return failed, retried

    failed, retried = asyncio.run(scenario())
    assert failed.status_code == 503 and failed.headers["retry-after"] == "1"
    assert failed.json()["code"] == "inference_failed" and "illegal memory access" in failed.json()["detail"]
    assert retried.status_code == 200 and retried.json()["cache"] == "miss"


def test_service_selection_and_readiness(serve, dev_headers, tmp_path, make_png, caplog):
    with serve(services=("consent",)) as client:
        assert client.post(f"{API}/identify", headers=dev_headers).status_code == 404
        assert client.get(f"{API}/consent", headers=dev_headers).status_code == 200
        ready = client.get(contract.READY_PATH)
        assert ready.status_code == 200 and set(ready.json()["checks"]) == {"database"}
    with serve(services=("identify",), models_dir=str(tmp_path / "empty")) as client:
        ready = client.get(contract.READY_PATH)
        assert ready.status_code == 503 and ready.json()["not_ready"] == ["model:identify"]
        # One word per check; the reason, which names internal paths and URIs, is in the log only.
        assert ready.json()["checks"]["model:identify"] == "failed"
        assert str(tmp_path) not in ready.text and "does not exist" not in ready.text
        assert any("does not exist" in getattr(r, "error", "") for r in caplog.records)
        assert client.get(f"{API}/consent", headers=dev_headers).status_code == 404


def test_metrics_use_route_templates(client, dev_headers):
    for species in ("no-such-a", "no-such-b"):
        client.get(f"{API}/species/{species}", headers=dev_headers)
    client.get("/no/such/path")
    text = client.get(contract.METRICS_PATH).text
    assert (
        f'florai_http_requests_total{{method="GET",route="{API}/species/{{species_id}}",status="404"}}'
        in text
    )
    assert "no-such-a" not in text and "/no/such/path" not in text
    assert 'route="unmatched"' in text
    assert (
        f'florai_http_request_duration_seconds_count{{method="GET",route="{API}/species/{{species_id}}"'
        in text
    )
    assert f'florai_http_requests_in_flight{{route="{API}/species/{{species_id}}"}} 0.0' in text
    assert 'florai_model_loaded{model="identify"} 1.0' in text


def test_spans_for_decode_queue_wait_and_inference(make_settings, dev_headers, make_png):
    exporter = InMemorySpanExporter()
    provider = configure_tracing(exporter)
    app = create_app(make_settings(services=("identify",)))
    instrument_app(app)

    frozen = []

    async def scenario():
        async with app.router.lifespan_context(app):
            frozen.append(gc.get_freeze_count())
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                files = {"file": ("a.png", make_png((3, 4, 5)), "image/png")}
                return await client.post(f"{API}/identify", files=files, headers=dev_headers)

    assert asyncio.run(scenario()).status_code == 200
    # Start-up's long-lived objects are out of the collector's scans while serving, back after.
    assert frozen[0] > 10_000 and gc.get_freeze_count() == 0
    provider.force_flush()
    spans = exporter.get_finished_spans()
    names = {s.name for s in spans}
    assert {"decode", "queue_wait", "inference"} <= names, names
    # One server span per request: the instrumentation's (FastAPI's own telemetry is off).
    [server] = [s for s in spans if s.kind == trace.SpanKind.SERVER]
    decode = next(s for s in spans if s.name == "decode")
    assert decode.context.trace_id == server.context.trace_id


def test_json_log_lines_carry_trace_and_request_ids():
    record = logging.LogRecord("florai.test", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    token = REQUEST_ID.set("req-123")
    try:
        with trace.get_tracer("test").start_as_current_span("outer"):
            line = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line["message"] == "hello world" and line["level"] == "INFO" and line["logger"] == "florai.test"
    assert line["request_id"] == "req-123" and set(line) >= {"ts", "trace_id", "span_id"}
