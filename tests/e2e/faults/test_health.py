"""``qake_core.Health``: liveness and readiness through the public API (TestClient runs
the lifespan); under a real server with a drain period: test_shutdown.py."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from qakeapi import Health, QakeAPI, begin_draining
from qakeapi.security import HTTPBearer, RateLimit, RateLimitMiddleware
from qakeapi.testing import TestClient

pytestmark = pytest.mark.fault


class Database:
    def __init__(self) -> None:
        self.up = True
        self.pings = 0

    async def ping(self) -> None:
        self.pings += 1
        if not self.up:
            raise ConnectionError("postgresql://app:s3cret@db.internal:5432 refused")


def make_app(db: Database, **options: object) -> QakeAPI:
    @asynccontextmanager
    async def lifespan(app: QakeAPI) -> AsyncIterator[dict[str, object]]:
        yield {"db": db}

    app = QakeAPI(lifespan=lifespan)
    health = Health(checks={"db": db.ping}, **options)  # type: ignore[arg-type]
    health.install(app)

    @app.get("/items")
    async def items() -> list[int]:
        return [1]

    return app


def test_liveness_always_readiness_only_after_startup() -> None:
    app = make_app(Database())
    client = TestClient(app)  # no lifespan: startup never ran
    assert client.get("/healthz").status_code == 200
    before = client.get("/readyz")
    assert before.status_code == 503
    assert before.headers["content-type"] == "application/problem+json"
    assert before.json()["detail"] == "the application has not completed its startup"
    with TestClient(app) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {"db": "ok"}}
        assert ready.headers["cache-control"] == "no-store"
        assert client.get("/healthz").json() == {"status": "alive"}
        assert client.head("/readyz").status_code == 200
        assert client.head("/healthz").status_code == 200
    # The lifespan shutdown ended readiness.
    assert TestClient(app).get("/readyz").status_code == 503


def test_a_failing_check_is_named_not_shown_and_logged_on_change(
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = Database()
    with TestClient(make_app(db)) as client, caplog.at_level(logging.INFO, "qake.health"):
        db.up = False
        answers = [client.get("/readyz") for _ in range(3)]
        assert {a.status_code for a in answers} == {503}
        problem = answers[0].json()
        assert problem["detail"] == "failing checks: db"
        assert problem["checks"] == {"db": "failed"}
        assert "s3cret" not in answers[0].text
        assert "refused" not in answers[0].text
        assert client.get("/healthz").status_code == 200  # alive, though not ready
        db.up = True
        assert client.get("/readyz").status_code == 200
    messages = [r.getMessage() for r in caplog.records if r.name == "qake.health"]
    assert messages == ["readiness check 'db' failed", "readiness check 'db' passes again"]
    assert db.pings == 4  # every probe runs the check: 3 failing, 1 passing


def test_a_check_returning_false_and_a_slow_check() -> None:
    app = QakeAPI()
    health = Health(timeout=0.3)

    @health.check("cache")
    async def cache() -> bool:
        return False

    @health.check("queue")
    async def queue() -> None:
        await asyncio.sleep(30)

    @health.check("fine")
    async def fine() -> None:
        await asyncio.sleep(0.2)

    health.install(app)
    with TestClient(app) as client:
        started = time.monotonic()
        answer = client.get("/readyz")
        took = time.monotonic() - started
    assert answer.status_code == 503
    assert answer.json()["checks"] == {"cache": "failed", "queue": "timeout", "fine": "ok"}
    assert answer.json()["detail"] == "failing checks: cache, queue"
    assert took < 2.0  # concurrent, each bounded by the timeout


def test_draining_turns_readiness_false_and_keeps_serving() -> None:
    app = make_app(Database())
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        assert begin_draining(app) == 1
        draining = client.get("/readyz")
        assert draining.status_code == 503
        assert draining.json()["detail"] == "the server is shutting down"
        assert client.get("/healthz").status_code == 200
        assert client.get("/items").json() == [1]
    assert begin_draining(QakeAPI()) == 0  # no Health installed


def test_probes_are_out_of_the_document_the_rate_limit_and_app_dependencies() -> None:
    app = QakeAPI(dependencies=[RateLimit("1/minute", name="deps"), HTTPBearer()])
    app.add_middleware(RateLimitMiddleware, limit="1/minute", name="edge")
    Health().install(app)
    shown = QakeAPI()
    Health(include_in_schema=True, live_path="/live", ready_path="/ready").install(shown)
    with TestClient(app) as client, TestClient(shown) as shown_client:
        assert not {"/healthz", "/readyz"} & set(client.get("/openapi.json").json()["paths"])
        assert {"/live", "/ready"} <= set(shown_client.get("/openapi.json").json()["paths"])
        for _ in range(5):  # a probe uses no quota and needs no credentials
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").status_code == 200
        # The limits do hold elsewhere.
        assert client.get("/nowhere").status_code == 404
        assert client.get("/nowhere").status_code == 429


def test_a_bad_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match="timeout must be > 0"):
        Health(timeout=0)
