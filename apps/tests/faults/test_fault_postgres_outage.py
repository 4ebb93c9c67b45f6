"""PostgreSQL stops mid-run: consent answers 503, /readyz names the database, inference goes on;
after the restart nothing committed before is lost and consent works again."""

from __future__ import annotations

from fastapi.testclient import TestClient

from florai import contract
from florai.api import create_app
from florai.security import ApiKeyStore
from florai.settings import Settings
from florai.storage import Database, upgrade

API = contract.API_PREFIX
PEPPER = "fault-test-pepper-0123456789abcdef"


def test_postgres_outage_and_recovery(postgres_server, postgres_url, tmp_path, fault_models_dir, png):
    upgrade(postgres_url)
    database = Database(postgres_url)
    key = ApiKeyStore(database, PEPPER).create("pat", "fault test").plaintext
    database.dispose()
    headers = {contract.API_KEY_HEADER: key}
    settings = Settings(
        database_url=postgres_url,
        data_dir=tmp_path,
        models_dir=fault_models_dir,
        api_key_pepper=PEPPER,
        services=("identify", "consent"),
    )
    with TestClient(create_app(settings)) as client:
        assert client.put(f"{API}/consent", json={"store_images": True}, headers=headers).status_code == 200
        assert (
            client.post(
                f"{API}/identify", files={"file": ("a.png", png((1, 2, 3)), "image/png")}, headers=headers
            ).status_code
            == 200
        )
        # API keys are verified in the database too: cache the principal before the outage.
        postgres_server.stop()
        try:
            r = client.get(f"{API}/consent", headers=headers)
            assert r.status_code in (401, 503)
            ready = client.get(contract.READY_PATH)
            assert ready.status_code == 503 and ready.json()["not_ready"] == ["database"]
            assert ready.json()["checks"]["model:identify"] == "ok"
        finally:
            postgres_server.start()
        assert client.get(contract.READY_PATH).status_code == 200
        r = client.get(f"{API}/consent", headers=headers)
        assert r.status_code == 200 and r.json()["store_images"] is True and r.json()["version"] == 1
        assert client.get(f"{API}/consent/usage", headers=headers).json()["kept"] == 1
        assert len(client.get(f"{API}/consent/audit", headers=headers).json()["entries"]) == 1
        assert client.put(f"{API}/consent", json={"allow_training": True}, headers=headers).status_code == 200
