"""FastAPI's ``app.router`` and ``Depends(..., scope="function")`` (issue 17).

No ``from __future__ import annotations`` here: the handlers' annotations name local
dependencies.
"""

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import pytest

from qakeapi import BackgroundTasks, Depends, HTTPException, QakeAPI
from qakeapi.testing import TestClient


def test_app_router_is_the_app() -> None:
    app = QakeAPI()

    async def ping() -> dict[str, bool]:
        return {"ok": True}

    app.router.add_api_route("/ping", ping)
    assert app.router is app
    assert [route.path for route in app.router.routes if route.path == "/ping"] == ["/ping"]
    assert TestClient(app).get("/ping").json() == {"ok": True}


def test_depends_scope_function_ends_before_the_response() -> None:
    """FastAPI's ``Depends(..., scope="function")``: the generator's exit runs when the
    handler returns, before the response; ``scope="request"`` after it."""
    log: list[str] = []

    async def per_call() -> AsyncIterator[str]:
        log.append("open call")
        try:
            yield "c"
        finally:
            log.append("close call")

    def per_request() -> Iterator[str]:
        log.append("open request")
        yield "r"
        log.append("close request")

    async def refusing() -> AsyncIterator[None]:
        try:
            yield
        except ValueError:
            raise HTTPException(409, "conflict") from None

    app = QakeAPI()

    @app.get("/")
    async def handler(
        call: Annotated[str, Depends(per_call, scope="function")],
        request: Annotated[str, Depends(per_request, scope="request")],
        tasks: BackgroundTasks,
    ) -> str:
        log.append("handler")
        tasks.add_task(log.append, "task")
        return call + request

    @app.get("/conflict", dependencies=[Depends(refusing, scope="function")])
    async def conflict() -> None:
        raise ValueError("taken")

    client = TestClient(app)
    assert client.get("/").json() == "cr"
    assert log == ["open call", "open request", "handler", "close call", "task", "close request"]
    answer = client.get("/conflict")
    assert (answer.status_code, answer.json()["detail"]) == (409, "conflict")
    with pytest.raises(ValueError, match="use 'function', 'request' or 'app'"):
        Depends(per_call, scope="call")  # type: ignore[arg-type]
