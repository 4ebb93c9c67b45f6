"""Fixtures that start real PostgreSQL and Redis servers on loopback (see servers.py).

One server of each kind per test session (started on first use); each test gets a fresh
database (dropped after) or a flushed Redis. A test may stop a server (fault tests): the
function fixtures start it again before the next test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from florai_testkit.servers import PostgresServer, RedisServer, redis_client


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a fresh, empty database on the session server; dropped after the test."""
    postgres_server.start()
    name = f"test_{uuid.uuid4().hex[:16]}"
    url = postgres_server.createdb(name)
    yield url
    postgres_server.start()  # a fault test may have left it stopped
    postgres_server.dropdb(name)


def _flushall(port: int) -> None:
    client = redis_client(port)
    try:
        client.flushall()
    finally:
        client.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """URL of the session Redis, empty at the start of the test and flushed after it."""
    redis_server.start()
    _flushall(redis_server.port)
    yield redis_server.url
    redis_server.start()  # a fault test may have left it stopped
    _flushall(redis_server.port)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty database of each supported kind: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'florai.db'}"
    return request.getfixturevalue("postgres_url")
