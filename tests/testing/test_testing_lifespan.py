from __future__ import annotations

from typing import Any

import pytest
from testing_apps import EchoApp

from qake_testing import AsyncTestClient, LifespanError, TestClient


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_with_runs_lifespan_exactly_once(backend: Any) -> None:
    app = EchoApp()
    with TestClient(app, backend=backend) as client:
        assert app.startups == 1
        assert app.shutdowns == 0
        for _ in range(3):
            assert client.get("/echo").json()["state"] == {"db": "connected"}
        assert client.app_state == {"db": "connected"}
    assert (app.startups, app.shutdowns) == (1, 1)


@pytest.mark.anyio
async def test_async_with_runs_lifespan_exactly_once() -> None:
    app = EchoApp()
    async with AsyncTestClient(app) as client:
        await client.get("/echo")
        await client.get("/echo")
        assert app.startups == 1
    assert (app.startups, app.shutdowns) == (1, 1)


def _failing_startup(how: str) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        if how == "message":
            await send({"type": "lifespan.startup.failed", "message": "no database"})
            return
        raise ConnectionError("no database")

    return app


@pytest.mark.parametrize(("how", "error"), [("message", LifespanError), ("raise", ConnectionError)])
def test_startup_failure_raises(how: str, error: type[Exception]) -> None:
    with pytest.raises(error, match="no database"), TestClient(_failing_startup(how)):
        pytest.fail("the block must not run")


@pytest.mark.anyio
@pytest.mark.parametrize(("how", "error"), [("message", LifespanError), ("raise", ConnectionError)])
async def test_async_startup_failure_raises(how: str, error: type[Exception]) -> None:
    with pytest.raises(error, match="no database"):
        async with AsyncTestClient(_failing_startup(how)):
            pytest.fail("the block must not run")


def test_shutdown_failure_raises() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.failed", "message": "stuck"})

    with pytest.raises(LifespanError, match="shutdown failed: stuck"), TestClient(app):
        pass


def test_app_without_lifespan_support_still_works() -> None:
    async def http_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"  # raises for lifespan, before receive()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with TestClient(http_only) as client:
        assert client.get("/").status_code == 204
