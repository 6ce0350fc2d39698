from __future__ import annotations

from typing import Any

import pytest
from testing_apps import ws_app

from qake_testing import (
    AsyncTestClient,
    TestClient,
    WebSocketDisconnect,
    WebSocketRejected,
)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_echo(backend: Any) -> None:
    client = TestClient(ws_app, backend=backend)
    with client.websocket_connect("/echo", subprotocols=["chat", "v2"]) as ws:
        assert ws.accepted_subprotocol == "chat"
        assert ws.response_headers["x-hello"] == "1"
        ws.send_text("hi")
        assert ws.receive_text() == "hi"
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_bytes() == b"\x00\x01"
        ws.send_json({"a": [1, 2]})
        assert ws.receive_json() == {"a": [1, 2]}
        ws.send_json({"b": 1}, mode="binary")
        assert ws.receive_json(mode="binary") == {"b": 1}
        ws.send_text("text")
        with pytest.raises(TypeError):
            ws.receive_bytes()
    assert ws_app.last_close_code == 1000  # type: ignore[attr-defined]
    client.close()


def test_client_close_code_reaches_the_app() -> None:
    with TestClient(ws_app) as client, client.websocket_connect("/echo") as ws:
        ws.close(4321)
    assert ws_app.last_close_code == 4321  # type: ignore[attr-defined]


def test_query_params_and_scope() -> None:
    with TestClient(ws_app) as client:
        with client.websocket_connect("/query?x=1") as ws:
            assert ws.receive_text() == "x=1"
        with client.websocket_connect("/query", params={"y": "2"}) as ws:
            assert ws.receive_text() == "y=2"


def test_rejected_handshake() -> None:
    with TestClient(ws_app) as client:
        with pytest.raises(WebSocketRejected) as info, client.websocket_connect("/reject"):
            pytest.fail("must not connect")
        assert (info.value.code, info.value.reason, info.value.status_code) == (
            4003,
            "go away",
            403,
        )


def test_denial_response() -> None:
    client = TestClient(ws_app)
    with pytest.raises(WebSocketRejected) as info, client.websocket_connect("/deny"):
        pytest.fail("must not connect")
    client.close()
    assert info.value.status_code == 401
    assert info.value.headers["www-authenticate"] == "Bearer"
    assert info.value.body == b"no token"


def test_server_close_code() -> None:
    with TestClient(ws_app) as client, client.websocket_connect("/close") as ws:
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
        assert (info.value.code, info.value.reason) == (4001, "bye")


def test_app_errors_are_raised() -> None:
    client = TestClient(ws_app)
    with pytest.raises(RuntimeError, match="ws crash"), client.websocket_connect("/crash"):
        pass
    with (
        pytest.raises(RuntimeError, match="crash in session"),
        client.websocket_connect("/echo") as ws,
    ):
        ws.send_text("crash")
        ws.receive_text()
    client.close()


@pytest.mark.anyio
async def test_async_sessions() -> None:
    async with AsyncTestClient(ws_app) as client:
        async with client.websocket_connect("/echo", subprotocols=["v1"]) as ws:
            assert ws.accepted_subprotocol == "v1"
            await ws.send_text("hi")
            assert await ws.receive_text() == "hi"
            await ws.send_bytes(b"x")
            assert await ws.receive_bytes() == b"x"
            await ws.send_json([1])
            assert await ws.receive_json() == [1]
            await ws.close(4000)
        assert ws_app.last_close_code == 4000  # type: ignore[attr-defined]
        with pytest.raises(WebSocketRejected) as info:
            async with client.websocket_connect("/reject"):
                pytest.fail("must not connect")
        assert info.value.code == 4003
        async with client.websocket_connect("/close") as ws:
            with pytest.raises(WebSocketDisconnect) as closed:
                await ws.receive()
            assert closed.value.code == 4001
        with pytest.raises(RuntimeError, match="ws crash"):
            async with client.websocket_connect("/crash"):
                pass


def test_receive_gives_up_after_its_timeout_instead_of_hanging() -> None:
    """A test waiting for a message the app never sends fails with TimeoutError (10 s
    by default; ``timeout=`` per call, ``None`` for no limit); the session still works."""
    with TestClient(ws_app) as client, client.websocket_connect("/echo") as ws:
        for receive in (ws.receive, ws.receive_text, ws.receive_bytes, ws.receive_json):
            with pytest.raises(
                TimeoutError, match=r"no WebSocket message from the app within 0\.05 s"
            ):
                receive(timeout=0.05)
        ws.send_text("still there")
        assert ws.receive_text(timeout=None) == "still there"
