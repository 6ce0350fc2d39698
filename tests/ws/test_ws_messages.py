"""Echo, iteration, JSON and subprotocols through a real App and TestClient."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from qake_core import App
from qake_testing import TestClient, WebSocketRejected
from qake_testing import WebSocketDisconnect as ClientDisconnect
from qake_ws import WebSocket, WebSocketDisconnect, WebSocketState

MakeClient = Callable[[App], TestClient]
MakeApp = Callable[[], App]


def test_echo_text_bytes_json(make_app: MakeApp, client_for: MakeClient) -> None:
    app = make_app()

    @app.websocket("/echo")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text(await ws.receive_text())
        await ws.send_bytes(await ws.receive_bytes())
        await ws.send_json(await ws.receive_json())
        await ws.send_json(await ws.receive_json(), mode="binary")
        await ws.close()

    with client_for(app).websocket_connect("/echo") as session:
        session.send_text("héllo")
        assert session.receive_text() == "héllo"
        session.send_bytes(b"\x00\xff")
        assert session.receive_bytes() == b"\x00\xff"
        session.send_json({"a": [1, 2.5, None]})
        assert session.receive_json() == {"a": [1, 2.5, None]}
        session.send_json({"b": True}, mode="binary")
        assert session.receive_json(mode="binary") == {"b": True}
        with pytest.raises(ClientDisconnect) as info:
            session.receive()
        assert info.value.code == 1000


@pytest.mark.parametrize(
    ("kind", "messages", "expected"),
    [
        ("text", [{"text": "a"}, {"text": "b"}], ["a", "b"]),
        ("bytes", [{"bytes": b"a"}, {"bytes": b"b"}], [b"a", b"b"]),
        ("json", [{"text": "[1]"}, {"bytes": b'{"x": 2}'}], [[1], {"x": 2}]),
    ],
)
def test_iteration_ends_cleanly_on_disconnect(
    make_app: MakeApp,
    client_for: MakeClient,
    kind: str,
    messages: list[dict[str, Any]],
    expected: list[Any],
) -> None:
    app = make_app()
    seen: list[Any] = []
    states: list[WebSocketState] = []

    @app.websocket("/iter")
    async def collect(ws: WebSocket) -> None:
        await ws.accept()
        iterator = {"text": ws.iter_text, "bytes": ws.iter_bytes, "json": ws.iter_json}[kind]
        async for item in iterator():
            seen.append(item)
            await ws.send_text("ok")
        states.append(ws.client_state)

    with client_for(app).websocket_connect("/iter") as session:
        for message in messages:
            session.send({"type": "websocket.receive", **message})
            assert session.receive_text() == "ok"
        session.close(1001)
    assert seen == expected
    assert states == [WebSocketState.DISCONNECTED]


def test_receive_after_disconnect_raises_with_code(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()
    codes: list[int] = []

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.receive_text()
        except WebSocketDisconnect as exc:
            codes.append(exc.code)
            raise

    with client_for(app).websocket_connect("/ws") as session:
        session.close(4001, "bye")
    assert codes == [4001]


def test_subprotocol_and_accept_headers(make_app: MakeApp, client_for: MakeClient) -> None:
    app = make_app()

    @app.websocket("/proto")
    async def proto(ws: WebSocket) -> None:
        assert ws.subprotocols == ["v2.chat", "v1.chat"]
        await ws.accept(subprotocol="v1.chat", headers={"X-Server": "qake"})
        await ws.send_text(ws.headers["x-client"])

    client = client_for(app)
    headers = {"x-client": "tests"}
    with client.websocket_connect(
        "/proto", subprotocols=["v2.chat", "v1.chat"], headers=headers
    ) as session:
        assert session.accepted_subprotocol == "v1.chat"
        assert session.response_headers["x-server"] == "qake"
        assert session.receive_text() == "tests"


def test_accepting_a_subprotocol_not_offered_is_an_error(
    make_app: MakeApp, client_for: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()

    @app.websocket("/proto")
    async def proto(ws: WebSocket) -> None:
        await ws.accept(subprotocol="v9")

    with (
        pytest.raises(WebSocketRejected) as info,
        client_for(app).websocket_connect("/proto", subprotocols=["v1"]),
    ):
        pass
    assert info.value.status_code == 500
    assert "cannot accept subprotocol 'v9'" in caplog.text


def test_sending_before_accept_is_an_error() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        pass

    import anyio

    async def main() -> None:
        ws = WebSocket({"type": "websocket", "headers": []}, receive, send)
        with pytest.raises(RuntimeError, match="before accept"):
            await ws.send_text("x")
        with pytest.raises(RuntimeError, match="before accept"):
            await ws.receive_text()
        await ws.accept()
        with pytest.raises(RuntimeError, match="already accepted"):
            await ws.accept()
        await ws.close()
        await ws.close()  # closing twice does nothing
        with pytest.raises(RuntimeError, match="is closed"):
            await ws.send_text("x")

    anyio.run(main)


def test_http_scope_is_refused() -> None:
    async def receive() -> dict[str, Any]:
        raise AssertionError

    async def send(message: Any) -> None:
        raise AssertionError

    with pytest.raises(ValueError, match="'websocket' scope"):
        WebSocket({"type": "http", "headers": []}, receive, send)


def test_server_reporting_client_gone_on_send_becomes_disconnect() -> None:
    import anyio

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    sent: list[str] = []

    async def send(message: Any) -> None:
        sent.append(message["type"])
        if message["type"] == "websocket.send":
            raise OSError("client disconnected")

    async def main() -> None:
        ws = WebSocket({"type": "websocket", "headers": []}, receive, send)
        await ws.accept()
        with pytest.raises(WebSocketDisconnect) as info:
            await ws.send_text("late")
        assert info.value.code == 1006
        assert ws.application_state is WebSocketState.DISCONNECTED
        await ws.close()  # nothing to do: already gone

    anyio.run(main)
    assert sent == ["websocket.accept", "websocket.send"]
