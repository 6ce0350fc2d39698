"""A Redis server process really stopped mid-test, then started again: the rate limit
follows its store-error policy meanwhile (never a 500), logs the outage once, and
limits again once Redis answers. Runs a private ``redis-server`` on a free port (the
shared one on 6379 is never touched)."""

from __future__ import annotations

import logging

import pytest
from redis_process import RedisProcess

from qake_core import App, RedisStore
from qake_security import RateLimit
from qake_testing import TestClient


def limited_app(url: str, **options: object) -> App:
    app = App()
    store = RedisStore(url)

    @app.get("/", dependencies=[RateLimit("3/minute", store=store, **options)])  # type: ignore[arg-type]
    async def index() -> dict[str, bool]:
        return {"ok": True}

    @app.on_event("shutdown")
    async def close() -> None:
        await store.aclose()

    return app


def test_fail_open_while_the_redis_process_is_stopped(
    redis_process: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="qake.security")
    with TestClient(limited_app(redis_process.url), raise_server_exceptions=False) as client:
        assert client.get("/").status_code == 200
        redis_process.stop()
        during = [client.get("/") for _ in range(5)]
        assert [r.status_code for r in during] == [200] * 5
        assert "ratelimit" not in during[0].headers  # no counter to report
        redis_process.start()  # a fresh server: the limit starts again from zero
        after = [client.get("/").status_code for _ in range(4)]
    assert after == [200, 200, 200, 429]
    outages = [r for r in caplog.records if r.name == "qake.security"]
    assert len(outages) == 1


def test_fail_closed_while_the_redis_process_is_stopped(redis_process: RedisProcess) -> None:
    app = limited_app(redis_process.url, on_store_error="closed")
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/").status_code == 200
        redis_process.stop()
        refused = client.get("/")
        assert refused.status_code == 503
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert int(refused.headers["retry-after"]) > 0
        redis_process.start()
        assert client.get("/").status_code == 200
