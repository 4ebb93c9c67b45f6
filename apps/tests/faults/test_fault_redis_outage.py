"""Redis stops: inference continues (in-process cache) and rate limits fall back to per-process buckets."""

from __future__ import annotations

from fastapi.testclient import TestClient

from florai import contract
from florai.api import create_app
from florai.settings import Settings

API = contract.API_PREFIX
DEV_KEY = "fault-test-dev-key-0123456789"


def test_redis_outage_falls_back_in_process(redis_server, redis_url, tmp_path, fault_models_dir, png):
    settings = Settings(
        redis_url=redis_url,
        data_dir=tmp_path,
        models_dir=fault_models_dir,
        api_key=DEV_KEY,
        services=("identify",),
        rate_limit_per_s=0.01,
        rate_limit_burst=3,
    )
    headers = {contract.API_KEY_HEADER: DEV_KEY}

    def identify(colour):
        files = {"file": ("a.png", png(colour), "image/png")}
        return client.post(f"{API}/identify", files=files, headers=headers)

    with TestClient(create_app(settings)) as client:
        runtime = client.app.state.runtime
        assert identify((1, 1, 1)).json()["cache"] == "miss"
        assert identify((1, 1, 1)).json()["cache"] == "hit"  # served from Redis
        assert runtime.limits.buckets.degraded is False
        redis_server.stop()
        r = identify((2, 2, 2))
        assert r.status_code == 200 and r.json()["cache"] == "miss"
        assert runtime.limits.buckets.degraded is True
        # The in-process bucket is fresh (burst 3): two more, then it limits on its own.
        assert identify((2, 2, 2)).json()["cache"] == "hit"  # in-process cache
        assert identify((3, 3, 3)).status_code == 200
        r = identify((4, 4, 4))
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert client.get(contract.READY_PATH).status_code == 200  # Redis is not a readiness dependency
