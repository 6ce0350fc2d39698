"""Per-connection limits and liveness: message rate, idle timeout, WebSocketException,
invalid payloads and the application-level heartbeat."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from qake_core import App
from qake_testing import TestClient, WebSocketRejected
from qake_testing import WebSocketDisconnect as ClientDisconnect
from qake_ws import (
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_MESSAGES_PER_SECOND,
    HEARTBEAT_TIMEOUT_CODE,
    WebSocket,
    WebSocketDisconnect,
    WebSocketException,
    heartbeat,
)

MakeClient = Callable[[App], TestClient]
MakeApp = Callable[[], App]


def _flood(session: Any, count: int) -> None:
    """Send ``count`` messages back to back; stop when the app has already hung up."""
    for n in range(count):
        try:
            session.send_text(str(n))
        except anyio.BrokenResourceError:  # the app closed and returned meanwhile
            return


def _counting_app(make_app: MakeApp, seen: list[Any], **options: Any) -> App:
    app = make_app()

    @app.websocket("/ws", **options)
    async def count(ws: WebSocket) -> None:
        await ws.accept()
        try:
            seen.extend([text async for text in ws.iter_text()])
        finally:
            seen.append(("end", ws.application_state.name))

    return app


def test_a_message_flood_closes_with_1008(make_app: MakeApp, client_for: MakeClient) -> None:
    seen: list[Any] = []
    app = _counting_app(make_app, seen, max_messages_per_second=5)
    with client_for(app).websocket_connect("/ws") as session:
        _flood(session, 20)
        with pytest.raises(ClientDisconnect) as info:
            session.receive_text()
    assert (info.value.code, info.value.reason) == (1008, "too many messages")
    assert seen == ["0", "1", "2", "3", "4", ("end", "DISCONNECTED")]


def test_the_rate_refills_over_time(make_app: MakeApp, client_for: MakeClient) -> None:
    app = make_app()

    @app.websocket("/ws", max_messages_per_second=20)
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        async for text in ws.iter_text():
            await ws.send_text(text)

    with client_for(app).websocket_connect("/ws") as session:
        for n in range(30):  # 1.5x the burst: the pause refills the bucket
            session.send_text(str(n))
            assert session.receive_text() == str(n)
            if n == 14:
                time.sleep(0.6)


def test_the_default_rate_limit_is_on(make_app: MakeApp, client_for: MakeClient) -> None:
    seen: list[Any] = []
    app = _counting_app(make_app, seen)
    flood = int(DEFAULT_MAX_MESSAGES_PER_SECOND) * 3
    with client_for(app).websocket_connect("/ws") as session:
        _flood(session, flood)
        with pytest.raises(ClientDisconnect) as info:
            session.receive_text()
    assert info.value.code == 1008
    assert len(seen) - 1 < flood


def test_idle_timeout_closes_with_1001(make_app: MakeApp, client_for: MakeClient) -> None:
    seen: list[Any] = []
    app = _counting_app(make_app, seen, idle_timeout=0.2)
    with client_for(app).websocket_connect("/ws") as session:
        session.send_text("a")
        started = time.monotonic()
        with pytest.raises(ClientDisconnect) as info:
            session.receive_text()
        waited = time.monotonic() - started
    assert (info.value.code, info.value.reason) == (1001, "idle timeout")
    assert 0.15 < waited < 2
    assert seen == ["a", ("end", "DISCONNECTED")]


def test_idle_timeout_counts_while_waiting_only(make_app: MakeApp, client_for: MakeClient) -> None:
    app = make_app()
    app.websocket_idle_timeout = 0.3  # type: ignore[attr-defined]

    @app.websocket("/ws")
    async def slow(ws: WebSocket) -> None:
        await ws.accept()
        async for text in ws.iter_text():
            await anyio.sleep(0.4)  # the app's own work does not count as idle
            await ws.send_text(text)

    with client_for(app).websocket_connect("/ws") as session:
        for text in ("a", "b"):
            session.send_text(text)
            assert session.receive_text() == text
    assert DEFAULT_IDLE_TIMEOUT == 300.0


def test_each_message_restarts_the_idle_timer(make_app: MakeApp, client_for: MakeClient) -> None:
    app = make_app()

    @app.websocket("/ws", idle_timeout=0.3)
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        async for text in ws.iter_text():
            await ws.send_text(text)

    with client_for(app).websocket_connect("/ws") as session:
        for n in range(5):  # 0.75 s in all, never 0.3 s without a message
            time.sleep(0.15)
            session.send_text(str(n))
            assert session.receive_text() == str(n)
        with pytest.raises(ClientDisconnect) as info:
            session.receive_text()
    assert info.value.code == 1001


def test_limits_can_be_turned_off(make_app: MakeApp, client_for: MakeClient) -> None:
    seen: list[Any] = []
    app = _counting_app(make_app, seen, max_messages_per_second=None, idle_timeout=None)
    with client_for(app).websocket_connect("/ws") as session:
        for n in range(500):
            session.send_text(str(n))
    assert len(seen) == 501


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("max_messages_per_second", 0),
        ("max_messages_per_second", 0.5),
        ("max_messages_per_second", "10"),
        ("idle_timeout", -1),
        ("idle_timeout", True),
    ],
)
def test_bad_limits_fail_at_startup(make_app: MakeApp, option: str, value: Any) -> None:
    app = make_app()

    @app.websocket("/ws", **{option: value})
    async def handler(ws: WebSocket) -> None:
        await ws.accept()

    with pytest.raises(ValueError, match=option):
        app.build()


def test_websocket_exception_closes_with_its_code(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        await ws.accept()
        if await ws.receive_text() == "quota":
            raise WebSocketException(4003, "quota exceeded")

    with client_for(app).websocket_connect("/ws") as session:
        session.send_text("quota")
        with pytest.raises(ClientDisconnect) as info:
            session.receive_text()
    assert (info.value.code, info.value.reason) == (4003, "quota exceeded")


def test_websocket_exception_before_accept_refuses_the_handshake(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        raise WebSocketException(1008, "no token")

    with pytest.raises(WebSocketRejected) as info, client_for(app).websocket_connect("/ws"):
        pass
    assert (info.value.status_code, info.value.code, info.value.reason) == (
        403,
        1008,
        "no token",
    )


@pytest.mark.parametrize("code", [1005, 1006, 1015, 999, 2000, 5000])
def test_websocket_exception_rejects_unsendable_codes(code: int) -> None:
    with pytest.raises(ValueError, match="RFC 6455"):
        WebSocketException(code)


def test_invalid_utf8_in_a_json_binary_frame_closes_1007(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_json()

    with client_for(app).websocket_connect("/ws") as session:
        session.send_bytes(b'"\xff\xfe"')
        with pytest.raises(ClientDisconnect) as info:
            session.receive_text()
    assert info.value.code == 1007


def _heartbeat_app(make_app: MakeApp, ended: list[Any]) -> App:
    app = make_app()

    @app.websocket("/ws")
    async def live(ws: WebSocket) -> None:
        await ws.accept()
        try:
            async with heartbeat(ws, interval=0.1, timeout=0.2):
                async for text in ws.iter_text():
                    if text != "pong":
                        await ws.send_text(f"echo {text}")
        except WebSocketDisconnect as exc:
            ended.append(exc.code)
            raise
        ended.append("loop ended")

    return app


def test_heartbeat_closes_a_silent_peer_with_1011(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    ended: list[Any] = []
    with client_for(_heartbeat_app(make_app, ended)).websocket_connect("/ws") as session:
        assert session.receive_json() == {"type": "ping"}
        with pytest.raises(ClientDisconnect) as info:
            session.receive_text()
    assert (info.value.code, info.value.reason) == (HEARTBEAT_TIMEOUT_CODE, "heartbeat timeout")
    assert ended == [HEARTBEAT_TIMEOUT_CODE]


def test_heartbeat_keeps_an_answering_peer(make_app: MakeApp, client_for: MakeClient) -> None:
    ended: list[Any] = []
    with client_for(_heartbeat_app(make_app, ended)).websocket_connect("/ws") as session:
        for _ in range(4):  # > 1 s of pings, each answered
            assert session.receive_json() == {"type": "ping"}
            session.send_text("pong")
        session.send_text("still here")
        message = session.receive_text()
        while message != "echo still here":
            assert message == '{"type":"ping"}'
            message = session.receive_text()
    assert ended == ["loop ended"]


@pytest.mark.parametrize("options", [{"interval": 0}, {"timeout": -1}])
def test_heartbeat_validates_its_options(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="heartbeat"):
        heartbeat(object(), **options)  # type: ignore[arg-type]
