"""On real PostgreSQL: one user's bad record never costs another user theirs, client input the database
would refuse is refused with a 4xx first, and consent writes without a version always apply."""

from __future__ import annotations

import asyncio
import hashlib
import io
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from PIL import Image

from florai import contract
from florai.api import create_app
from florai.consent import ConsentService, LocalImageStore, SentImage
from florai.services.retention import RetentionWriter
from florai.settings import Settings
from florai.storage import Database, upgrade

API = contract.API_PREFIX
JWT_KEY = "postgres-isolation-jwt-secret-0123456789"
WRITERS = 20


def token(sub: str) -> dict[str, str]:
    claims = {"sub": sub, "exp": int(time.time()) + 300}
    return {"Authorization": f"Bearer {jwt.encode(claims, JWT_KEY, algorithm='HS256')}"}


def png(n: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (n % 256, (n * 7) % 256, 90)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def app(postgres_url: str, tmp_path: Path, reference_models: dict[str, Path]) -> Iterator:
    models_dir = str(reference_models[contract.TASK_IDENTIFY].parent)
    settings = Settings(
        database_url=postgres_url,
        data_dir=tmp_path,
        models_dir=models_dir,
        api_key_pepper="postgres-isolation-pepper-0123456789",
        jwt_key=JWT_KEY,
        services=("identify", "consent"),
        rate_limit_per_s=1000,
        rate_limit_burst=1000,
    )
    yield create_app(settings)


async def with_client(app, scenario):  # noqa: ANN001, ANN201
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as client:
            return await scenario(client)


def test_a_poisoned_token_in_a_group_costs_the_victim_nothing(app):
    victim, attacker = token("victim"), token("a" * 300)

    async def scenario(client: httpx.AsyncClient):
        assert (
            await client.put(f"{API}/consent", json={"store_images": True}, headers=victim)
        ).status_code == 200
        calls = []
        for n in range(40):  # sent together: their keep-or-discard records share transactions
            calls.append(
                client.post(f"{API}/identify", files={"file": ("v.png", png(n), "image/png")}, headers=victim)
            )
            if n % 8 == 0:
                calls.append(
                    client.post(
                        f"{API}/identify", files={"file": ("a.png", png(n), "image/png")}, headers=attacker
                    )
                )
        answers = await asyncio.gather(*calls)
        usage = (await client.get(f"{API}/consent/usage", headers=victim)).json()
        return answers, usage

    answers, usage = asyncio.run(with_client(app, scenario))
    statuses = sorted({a.status_code for a in answers})
    assert statuses == [200, 401]  # the attacker's token is refused: its subject cannot be a user id
    assert all("longer than" not in a.text for a in answers)  # the reason is logged, not told
    assert (usage["kept"], usage["discarded"]) == (40, 0)


def test_a_record_the_database_refuses_fails_alone_in_its_group(postgres_url, tmp_path):
    upgrade(postgres_url)
    database = Database(postgres_url)
    consent = ConsentService(database)
    consent.update("victim", "victim", {"store_images": True})
    store = LocalImageStore(tmp_path / "images")
    writer = RetentionWriter(consent, store)
    images = [
        SentImage("victim", "identify", hashlib.sha256(png(n)).hexdigest(), png(n), "png") for n in range(40)
    ]
    # A task name longer than its column: PostgreSQL refuses the row, and with it the transaction.
    poisoned = SentImage("intruder", "x" * 40, hashlib.sha256(b"p").hexdigest(), png(99), "png")

    async def send_all():  # noqa: ANN202
        return await asyncio.gather(
            *(writer.submit(i) for i in [*images[:20], poisoned, *images[20:]]), return_exceptions=True
        )

    try:
        outcomes = asyncio.run(send_all())
        assert isinstance(outcomes[20], Exception)
        kept = [o for i, o in enumerate(outcomes) if i != 20]
        assert all(not isinstance(o, Exception) and o.kept for o in kept)
        assert consent.usage("victim").kept == 40
        assert len(list((tmp_path / "images" / "victim").iterdir())) == 40
        assert consent.usage("intruder").kept == consent.usage("intruder").discarded == 0
    finally:
        database.dispose()


# The subjects, not the tokens: a token minted at collection time expires (exp + 300 s) before a slow
# suite reaches the test, and the 401 would then say nothing about the input.
@pytest.mark.parametrize(
    ("path", "subject", "status"),
    [
        (f"{API}/consent/audit?before_id={2**63}", "alice", 422),
        (f"{API}/consent/audit?before_id={2**64}", "alice", 422),
        (f"{API}/consent", "b" * 256, 401),
        (f"{API}/consent", "nul\x00in-the-subject", 401),
        (f"{API}/consent", "lone-surrogate-\ud800", 401),
    ],
)
def test_input_postgres_would_refuse_is_a_4xx(app, path, subject, status):
    headers = token(subject)

    async def scenario(client: httpx.AsyncClient) -> httpx.Response:
        return await client.get(path, headers=headers)

    answer = asyncio.run(with_client(app, scenario))
    assert answer.status_code == status and answer.json()["detail"]


def test_consent_writes_without_a_version_always_apply(app):
    user = token("contended")

    async def scenario(client: httpx.AsyncClient):
        async def writer(i: int) -> list[int]:
            statuses = []
            for j in range(3):
                body = {"store_images": (i + j) % 2 == 0, "allow_training": j % 2 == 0}
                statuses.append((await client.put(f"{API}/consent", json=body, headers=user)).status_code)
            return statuses

        statuses = [s for batch in await asyncio.gather(*(writer(i) for i in range(WRITERS))) for s in batch]
        final = (await client.get(f"{API}/consent", headers=user)).json()
        audit = (await client.get(f"{API}/consent/audit?limit=500", headers=user)).json()["entries"]
        return statuses, final, audit

    statuses, final, audit = asyncio.run(with_client(app, scenario))
    assert statuses == [200] * WRITERS * 3  # no 409: a write without a version waits its turn
    # Every change is in the audit, in a chain per field, ending at the stored values.
    for field in ("store_images", "allow_training"):
        chain = [e for e in reversed(audit) if e["field"] == field]
        assert all(a["new_value"] == b["old_value"] for a, b in zip(chain, chain[1:], strict=False))
        assert chain[-1]["new_value"] == final[field]
