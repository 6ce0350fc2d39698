"""FastAPI's WebSocket tutorial shapes, ported by changing the imports only."""

from __future__ import annotations

from typing import Annotated

import pytest

from qakeapi import (
    Cookie,
    Depends,
    QakeAPI,
    Query,
    WebSocket,
    WebSocketDisconnect,
    WebSocketException,
)
from qakeapi.testing import TestClient, WebSocketRejected

app = QakeAPI()


async def get_cookie_or_token(
    websocket: WebSocket,
    session: Annotated[str | None, Cookie()] = None,
    token: Annotated[str | None, Query()] = None,
) -> str:
    if session is None and token is None:
        raise WebSocketException(code=1008)
    return session or token  # type: ignore[return-value]


@app.websocket("/items/{item_id}/ws")
async def websocket_endpoint(
    *,
    websocket: WebSocket,
    item_id: str,
    q: int | None = None,
    cookie_or_token: Annotated[str, Depends(get_cookie_or_token)],
) -> None:
    await websocket.accept()
    while True:
        data = await websocket.receive_text()
        await websocket.send_text(f"Session cookie or query token value is: {cookie_or_token}")
        if q is not None:
            await websocket.send_text(f"Query parameter q is: {q}")
        await websocket.send_text(f"Message text was: {data}, for item ID: {item_id}")


class ConnectionManager:
    def __init__(self) -> None:
        self.active_connections: list[WebSocket] = []

    async def connect(self, websocket: WebSocket) -> None:
        await websocket.accept()
        self.active_connections.append(websocket)

    def disconnect(self, websocket: WebSocket) -> None:
        self.active_connections.remove(websocket)

    async def broadcast(self, message: str) -> None:
        for connection in self.active_connections:
            await connection.send_text(message)


manager = ConnectionManager()


@app.websocket("/ws/{client_id}")
async def chat(websocket: WebSocket, client_id: int) -> None:
    await manager.connect(websocket)
    try:
        while True:
            data = await websocket.receive_text()
            await manager.broadcast(f"Client #{client_id} says: {data}")
    except WebSocketDisconnect:
        manager.disconnect(websocket)
        await manager.broadcast(f"Client #{client_id} left the chat")


def test_dependencies_with_cookie_or_token() -> None:
    client = TestClient(app)
    with client.websocket_connect("/items/foo/ws?token=some-token&q=3") as websocket:
        websocket.send_text("hi")
        assert websocket.receive_text() == "Session cookie or query token value is: some-token"
        assert websocket.receive_text() == "Query parameter q is: 3"
        assert websocket.receive_text() == "Message text was: hi, for item ID: foo"
    client.cookies.set("session", "fakesession")
    with client.websocket_connect("/items/bar/ws") as websocket:
        websocket.send_text("x")
        assert websocket.receive_text() == "Session cookie or query token value is: fakesession"


def test_websocket_exception_in_a_dependency_refuses_with_its_code() -> None:
    with (
        pytest.raises(WebSocketRejected) as info,
        TestClient(app).websocket_connect("/items/foo/ws"),
    ):
        pass
    assert info.value.code == 1008


def test_the_connection_manager_broadcasts_and_reports_leaving() -> None:
    # One event loop for both sessions (`with TestClient(...)`): the handlers send to
    # each other's sockets, as they would in one server process.
    with TestClient(app) as client, client.websocket_connect("/ws/1") as first:
        with client.websocket_connect("/ws/2") as second:
            second.send_text("hello")
            assert first.receive_text() == "Client #2 says: hello"
            assert second.receive_text() == "Client #2 says: hello"
        assert first.receive_text() == "Client #2 left the chat"
    assert manager.active_connections == []
