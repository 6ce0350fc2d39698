"""Issue 12 item 18: the request ID is right in every log record, whatever the order of
``AccessLogMiddleware``, ``RequestIDMiddleware`` and the middleware that logs errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from qake_core import (
    AccessLogMiddleware,
    App,
    Middleware,
    Request,
    RequestIDFilter,
    RequestIDMiddleware,
    ServerErrorMiddleware,
    request_id_var,
)
from qake_core.types import ASGIApp, Receive, Scope, Send
from qake_testing import TestClient

# The first middleware in the list is the outermost.
ORDERS = {
    "request-id outside access log": [RequestIDMiddleware, AccessLogMiddleware],
    "access log outside request-id": [AccessLogMiddleware, RequestIDMiddleware],
}
LINE = logging.Formatter("rid=%(request_id)s %(name)s %(message)s")


class Records:
    """The records caplog's handler saw, through a RequestIDFilter as a user sets it up."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    def named(self, name: str) -> list[logging.LogRecord]:
        return [r for r in self.caplog.records if r.name == name]

    def rids(self, name: str) -> list[str]:
        return [r.request_id for r in self.named(name)]  # type: ignore[attr-defined]


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> Iterator[Records]:
    request_filter = RequestIDFilter()
    caplog.handler.addFilter(request_filter)
    caplog.set_level(logging.INFO)
    try:
        yield Records(caplog)
    finally:
        caplog.handler.removeFilter(request_filter)


def logging_app(*outer: type[Any]) -> App:
    app = App(middleware=[Middleware(cls) for cls in outer])

    @app.get("/")
    async def index(request: Request) -> dict[str, Any]:
        logging.getLogger("test.app").warning("inside the handler")
        return {"id": getattr(request.state, "request_id", None)}

    @app.get("/boom")
    async def boom() -> dict[str, Any]:
        raise RuntimeError("boom")

    return app


class FailingMiddleware:
    """An edge middleware that raises before any response (logged outside RequestID)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/edge-boom":
            raise RuntimeError("edge boom")
        await self.app(scope, receive, send)


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
def test_access_line_and_handler_records_carry_the_request_id(
    records: Records, order: list[type[Any]]
) -> None:
    with TestClient(logging_app(*order)) as client:
        sent = client.get("/", headers={"x-request-id": "rid-sent.1"})
        generated = client.get("/")
    assert sent.headers["x-request-id"] == "rid-sent.1"
    new_id = generated.headers["x-request-id"]
    assert generated.json() == {"id": new_id}
    assert records.rids("test.app") == ["rid-sent.1", new_id]
    assert records.rids("qake.access") == ["rid-sent.1", new_id]
    access = [LINE.format(r) for r in records.named("qake.access")]
    assert access[0].startswith("rid=rid-sent.1 qake.access GET / 200 ")
    assert access[1].startswith(f"rid={new_id} qake.access GET / 200 ")


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
def test_error_records_carry_the_request_id(records: Records, order: list[type[Any]]) -> None:
    with TestClient(logging_app(*order), raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"x-request-id": "rid-boom"})
    assert response.status_code == 500
    errors = records.rids("qake.error")
    assert errors
    assert set(errors) == {"rid-boom"}
    assert records.rids("qake.access") == ["rid-boom"]


@pytest.mark.parametrize(
    "outer",
    [
        [RequestIDMiddleware, FailingMiddleware],  # logged by the app's edge
        [ServerErrorMiddleware, RequestIDMiddleware, FailingMiddleware],
        [AccessLogMiddleware, ServerErrorMiddleware, RequestIDMiddleware, FailingMiddleware],
    ],
    ids=["app edge", "server-error middleware", "access log outermost"],
)
def test_an_error_logged_outside_the_request_id_middleware_names_the_request(
    records: Records, outer: list[type[Any]]
) -> None:
    with TestClient(logging_app(*outer), raise_server_exceptions=False) as client:
        response = client.get("/edge-boom", headers={"x-request-id": "rid-edge"})
    assert response.status_code == 500
    errors = records.named("qake.error")
    assert errors, "the error was not logged"
    assert {r.request_id for r in errors} == {"rid-edge"}  # type: ignore[attr-defined]
    assert LINE.format(errors[0]).startswith("rid=rid-edge qake.error ")
    if AccessLogMiddleware in outer:
        assert records.rids("qake.access") == ["rid-edge"]


def test_records_outside_a_request(records: Records) -> None:
    logging.getLogger("test.app").warning("no request")
    logging.getLogger("test.app").warning("explicit", extra={"request_id": "given"})
    with TestClient(logging_app(AccessLogMiddleware)) as client:  # no RequestIDMiddleware
        client.get("/")
    assert records.rids("test.app") == ["-", "given", "-"]
    assert records.rids("qake.access") == ["-"]
    assert request_id_var.get() is None
