"""The real-server fixtures: restart keeps data, and a failed start names the cause."""

from __future__ import annotations

import psycopg
import pytest
import redis

from florai_testkit.servers import RedisServer, ServerError, port_open, redis_serves


def test_postgres_restart_keeps_committed_data(postgres_server, postgres_url):
    dsn = postgres_server.dsn_for(postgres_url.rsplit("/", 1)[1])
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE kept (v int)")
        conn.execute("INSERT INTO kept VALUES (42)")
    postgres_server.stop()
    assert not postgres_server.running and not port_open(postgres_server.port)
    postgres_server.start()
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT v FROM kept").fetchall() == [(42,)]


def test_redis_stop_start_on_the_same_port(redis_server, redis_url):
    client = redis.Redis.from_url(redis_url)
    assert client.ping()
    redis_server.stop()
    assert not redis_server.running and not port_open(redis_server.port)
    redis_server.start()
    assert redis.Redis.from_url(redis_url).ping()


def test_start_on_a_taken_port_is_refused(redis_server):
    redis_server.start()
    clash = RedisServer(port=redis_server.port)  # port already taken by the session server
    try:
        with pytest.raises(ServerError, match="already in use"):
            clash.start()
        assert not clash.running
    finally:
        clash.close()
    assert not clash.dir.exists()
    assert redis_serves(redis_server.port, redis_server.process.proc.pid)  # the owner is untouched


def test_failed_start_reports_the_server_log(tmp_path):
    server = RedisServer(base_dir=tmp_path)
    server.process.argv.append("--no-such-option")
    try:
        with pytest.raises(ServerError, match="redis-server exited") as error:
            server.start()
        assert "no-such-option" in str(error.value)  # the log tail names the cause
        assert not server.running
    finally:
        server.close()
