"""The access log and request IDs of WebSocket connections (pure ASGI middleware sees
websocket scopes)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from qake_core import AccessLogMiddleware, App, HTTPException, RequestIDMiddleware
from qake_testing import TestClient, WebSocketRejected
from qake_ws import WebSocket

MakeClient = Callable[[App], TestClient]
MakeApp = Callable[[], App]


def _records(caplog: pytest.LogCaptureFixture) -> list[Any]:
    return [r for r in caplog.records if r.name == "qake.access"]


def _app(make_app: MakeApp) -> App:
    app = make_app()
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(RequestIDMiddleware)  # outermost: the ID is set first

    @app.websocket("/chat")
    async def chat(ws: WebSocket, token: str | None = None) -> None:
        if token != "t":
            raise HTTPException(401, "token required")
        await ws.accept()
        for _ in range(2):
            await ws.send_text(await ws.receive_text())
        await ws.send_text("bye")
        await ws.close(4000, "done")

    return app


def test_connects_and_closes_are_logged_with_counts_and_the_request_id(
    make_app: MakeApp, client_for: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="qake.access")
    client = client_for(_app(make_app))
    with client.websocket_connect("/chat?token=t", headers={"x-request-id": "req-1"}) as session:
        assert session.response_headers["x-request-id"] == "req-1"
        for text in ("a", "b"):
            session.send_text(text)
            assert session.receive_text() == text
        assert session.receive_text() == "bye"
    accepted, closed = _records(caplog)
    assert accepted.getMessage() == "WS /chat accepted"
    assert (accepted.ws_event, accepted.request_id) == ("accepted", "req-1")
    assert closed.ws_event == "closed"
    assert (closed.ws_close_code, closed.ws_closed_by) == (4000, "app")
    assert (closed.ws_messages_in, closed.ws_messages_out) == (2, 3)
    assert closed.duration_ms >= 0
    assert closed.request_id == "req-1"
    assert closed.getMessage().startswith("WS /chat closed 4000 ")


def test_a_refused_handshake_is_logged_with_its_status(
    make_app: MakeApp, client_for: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="qake.access")
    client = client_for(_app(make_app))
    with pytest.raises(WebSocketRejected) as info, client.websocket_connect("/chat"):
        pass
    assert info.value.headers["x-request-id"]  # a generated ID on the refusal too
    (refused,) = _records(caplog)
    assert refused.getMessage() == "WS /chat refused 401"
    assert (refused.ws_event, refused.http_status) == ("refused", 401)
    assert refused.request_id == info.value.headers["x-request-id"]


def test_a_client_close_is_logged_as_the_clients(
    make_app: MakeApp, client_for: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="qake.access")
    client = client_for(_app(make_app))
    with client.websocket_connect("/chat?token=t") as session:
        session.send_text("a")
        assert session.receive_text() == "a"
        session.close(1001)
    closed = _records(caplog)[-1]
    assert (closed.ws_close_code, closed.ws_closed_by) == (1001, "client")
    assert closed.ws_messages_in == 1


def test_nothing_is_logged_when_the_logger_is_off(
    make_app: MakeApp, client_for: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="qake.access")
    with client_for(_app(make_app)).websocket_connect("/chat?token=t") as session:
        session.send_text("a")
        assert session.receive_text() == "a"
    assert _records(caplog) == []
