"""Class endpoints: on_connect (with the route's parameters and dependencies),
on_receive (data typed by its annotation or ``encoding``), on_disconnect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from qake_core import App, Depends, HandlerSignatureError, HTTPException
from qake_testing import TestClient, WebSocketRejected
from qake_testing import WebSocketDisconnect as ClientDisconnect
from qake_ws import WebSocket, WebSocketEndpoint

MakeClient = Callable[[App], TestClient]
MakeApp = Callable[[], App]

EVENTS: list[Any] = []


class Move(BaseModel):
    x: int
    y: int


def player_name(name: str = "anon") -> str:
    if name == "banned":
        raise HTTPException(403, "banned")
    return name


class Game(WebSocketEndpoint):
    async def on_connect(
        self, websocket: WebSocket, room: int, player: str = Depends(player_name)
    ) -> None:
        self.player = player
        self.room = room
        await websocket.accept()
        await websocket.send_json({"joined": room, "player": player})

    async def on_receive(self, websocket: WebSocket, data: Move) -> None:
        await websocket.send_json({"player": self.player, "at": [data.x, data.y]})

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        EVENTS.append(("left", self.player, close_code))


def test_a_class_endpoint_runs_on_connect_receive_and_disconnect(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()
    app.add_websocket_route("/games/{room:int}", Game)
    EVENTS.clear()
    with client_for(app).websocket_connect("/games/7?name=ada") as session:
        assert session.receive_json() == {"joined": 7, "player": "ada"}
        session.send_json({"x": 1, "y": 2})
        assert session.receive_json() == {"player": "ada", "at": [1, 2]}
        session.close(1000)
    assert EVENTS == [("left", "ada", 1000)]


def test_a_class_endpoints_dependencies_refuse_the_handshake(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()
    app.websocket("/games/{room:int}")(Game)
    with (
        pytest.raises(WebSocketRejected) as info,
        client_for(app).websocket_connect("/games/1?name=banned"),
    ):
        pass
    assert info.value.status_code == 403


@pytest.mark.parametrize("policy", ["close", "error"])
def test_an_invalid_typed_message_closes_1007_or_answers_an_error(
    make_app: MakeApp, client_for: MakeClient, policy: str
) -> None:
    app = make_app()
    app.add_websocket_route("/games/{room:int}", Game, invalid_message=policy)
    with client_for(app).websocket_connect("/games/1") as session:
        session.receive_json()
        session.send_json({"x": "not a number", "y": 2})
        if policy == "close":
            with pytest.raises(ClientDisconnect) as info:
                session.receive_json()
            assert info.value.code == 1007
            return
        error = session.receive_json()
        assert error["type"] == "error"
        assert error["errors"][0]["loc"] == ["x"]
        session.send_text("{not json")
        assert session.receive_json()["errors"][0]["type"] == "json_invalid"
        session.send_json({"x": 3, "y": 4})  # the connection goes on
        assert session.receive_json()["at"] == [3, 4]


class Echo(WebSocketEndpoint):
    encoding: ClassVar[Any] = "text"

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        await websocket.send_text(data.upper())


class Raw(WebSocketEndpoint):
    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        kind = "text" if isinstance(data, str) else "bytes"
        await websocket.send_json([kind, len(data)])


class Json(WebSocketEndpoint):
    encoding: ClassVar[Any] = "json"

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        await websocket.send_json({"got": data})


def test_encoding_decides_unannotated_data(make_app: MakeApp, client_for: MakeClient) -> None:
    app = make_app()
    app.add_websocket_route("/echo", Echo)  # the default on_connect accepts
    app.add_websocket_route("/raw", Raw)
    app.add_websocket_route("/json", Json)
    client = client_for(app)
    with client.websocket_connect("/echo") as session:
        session.send_text("hi")
        assert session.receive_text() == "HI"
        session.send_bytes(b"x")  # a binary frame to a text endpoint: 1003
        with pytest.raises(ClientDisconnect) as info:
            session.receive_text()
        assert info.value.code == 1003
    with client.websocket_connect("/raw") as session:
        session.send_text("abc")
        assert session.receive_json() == ["text", 3]
        session.send_bytes(b"ab")
        assert session.receive_json() == ["bytes", 2]
    with client.websocket_connect("/json") as session:
        session.send_json([1, 2])
        assert session.receive_json() == {"got": [1, 2]}


class Refuses(WebSocketEndpoint):
    async def on_connect(self, websocket: WebSocket) -> None:
        await websocket.close(4001)

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        EVENTS.append("never")


class Fails(WebSocketEndpoint):
    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        raise RuntimeError("bug")

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        EVENTS.append(("disconnect", close_code))


def test_refusing_in_on_connect_and_failing_in_on_receive(
    make_app: MakeApp, client_for: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    app.add_websocket_route("/refuses", Refuses)
    app.add_websocket_route("/fails", Fails)
    client = client_for(app)
    EVENTS.clear()
    with pytest.raises(WebSocketRejected), client.websocket_connect("/refuses"):
        pass
    with client.websocket_connect("/fails") as session:
        session.send_text("x")
        with pytest.raises(ClientDisconnect) as info:
            session.receive_text()
        assert info.value.code == 1011
    assert EVENTS == [("disconnect", 1011)]
    assert "RuntimeError: bug" in caplog.text


def test_bad_class_endpoints_fail_at_startup(make_app: MakeApp) -> None:
    class NotAnEndpoint:
        async def on_connect(self, websocket: WebSocket) -> None:
            pass

    class SyncReceive(WebSocketEndpoint):
        def on_receive(self, websocket: WebSocket, data: Any) -> None:  # type: ignore[override]
            pass

    class BadEncoding(WebSocketEndpoint):
        encoding: ClassVar[Any] = "xml"

    class NeedsArgs(WebSocketEndpoint):
        def __init__(self, db: object) -> None:
            self.db = db

    class BodyInConnect(WebSocketEndpoint):
        async def on_connect(self, websocket: WebSocket, move: Move) -> None:  # type: ignore[override]
            pass

    cases: list[tuple[type, str]] = [
        (NotAnEndpoint, "must subclass qake_ws.WebSocketEndpoint"),
        (SyncReceive, "on_receive must be an `async def`"),
        (BadEncoding, "encoding = 'xml'"),
        (NeedsArgs, r"requires \['db'\]"),
        (BodyInConnect, "'move' would be read from a request body"),
    ]
    for cls, message in cases:
        app = make_app()
        with pytest.raises(HandlerSignatureError, match=message):
            app.add_websocket_route("/ws", cls)
            app.build()
