"""The hook chain's WebSocket form: ``@app.middleware("websocket")``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from qake_core import App, HTTPException
from qake_testing import TestClient, WebSocketRejected
from qake_ws import WebSocket

MakeClient = Callable[[App], TestClient]
MakeApp = Callable[[], App]
CallNext = Callable[[WebSocket], Awaitable[None]]


def test_hooks_wrap_every_websocket_route_outermost_first(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()
    events: list[str] = []

    @app.middleware("websocket")
    async def log(websocket: WebSocket, call_next: CallNext) -> None:
        events.append(f"log in {websocket.url.path}")
        try:
            await call_next(websocket)
        finally:
            events.append(f"log out {websocket.application_state.name}")

    @app.middleware("websocket")
    async def api_key(websocket: WebSocket, call_next: CallNext) -> None:
        if websocket.query_params.get("key") != "k":
            raise HTTPException(401, "key required", headers={"WWW-Authenticate": "APIKey"})
        websocket.state.key_ok = True
        await call_next(websocket)

    @app.websocket("/ws")
    async def ws_route(ws: WebSocket) -> None:
        events.append("handler")
        await ws.accept()
        await ws.send_json(ws.state.key_ok)

    @app.get("/http")
    async def http_route() -> str:
        return "not wrapped"

    client = client_for(app)
    with pytest.raises(WebSocketRejected) as info, client.websocket_connect("/ws"):
        pass
    assert info.value.status_code == 401
    assert info.value.headers["www-authenticate"] == "APIKey"
    assert events == ["log in /ws", "log out CONNECTING"]
    events.clear()
    with client.websocket_connect("/ws?key=k") as session:
        assert session.receive_json() is True
    assert events == ["log in /ws", "handler", "log out CONNECTED"]
    events.clear()
    assert client.get("/http").json() == "not wrapped"
    assert events == []


def test_an_unknown_middleware_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="use 'http' or 'websocket'"):
        App().middleware("lifespan")
