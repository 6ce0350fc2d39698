"""The compiled endpoint: path params, rejection, errors, close codes and limits."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from qake_core import (
    App,
    BackgroundTasks,
    Depends,
    HandlerSignatureError,
    HTTPException,
    Request,
    Router,
)
from qake_testing import TestClient, WebSocketRejected
from qake_testing import WebSocketDisconnect as ClientDisconnect
from qake_ws import WebSocket, WebSocketDisconnect

MakeClient = Callable[[App], TestClient]
MakeApp = Callable[[], App]


def test_path_params_by_name_converted(make_app: MakeApp, client_for: MakeClient) -> None:
    app = make_app()

    @app.websocket("/rooms/{room:int}/users/{user:uuid}")
    async def room(user: uuid.UUID, ws: WebSocket, room: int, flag: bool = False) -> None:
        await ws.accept()
        await ws.send_json([room + 1, str(user), flag, ws.path_params["room"]])

    user = uuid.uuid4()
    with client_for(app).websocket_connect(f"/rooms/41/users/{user}") as session:
        assert session.receive_json() == [42, str(user), False, 41]


def test_websocket_is_the_first_parameter_when_not_annotated(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()

    @app.websocket("/items/{name}")
    async def item(socket, name):  # type: ignore[no-untyped-def]
        await socket.accept()
        await socket.send_text(name)

    with client_for(app).websocket_connect("/items/café") as session:
        assert session.receive_text() == "café"


def test_close_before_accept_rejects_the_handshake(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()

    @app.websocket("/private")
    async def private(ws: WebSocket) -> None:
        if "authorization" not in ws.headers:
            await ws.close(1008)
            return
        await ws.accept()

    with pytest.raises(WebSocketRejected) as info, client_for(app).websocket_connect("/private"):
        pass
    assert info.value.status_code == 403
    assert info.value.code == 1008


def test_http_exception_before_accept_rejects_without_logging(
    make_app: MakeApp, client_for: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()

    @app.websocket("/private")
    async def private(ws: WebSocket) -> None:
        raise HTTPException(401, "token required")

    with pytest.raises(WebSocketRejected) as info, client_for(app).websocket_connect("/private"):
        pass
    # Refused with the exception's own HTTP answer (the websocket.http.response extension).
    assert info.value.status_code == 401
    assert info.value.headers["content-type"] == "application/problem+json"
    assert b'"detail":"token required"' in info.value.body
    assert "unhandled" not in caplog.text


def test_returning_without_accept_rejects(make_app: MakeApp, client_for: MakeClient) -> None:
    app = make_app()

    @app.websocket("/nothing")
    async def nothing(ws: WebSocket) -> None:
        return None

    with pytest.raises(WebSocketRejected) as info, client_for(app).websocket_connect("/nothing"):
        pass
    assert info.value.status_code == 403


def test_error_before_accept_refuses_with_500_and_logs(
    make_app: MakeApp, client_for: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()

    @app.websocket("/boom")
    async def boom(ws: WebSocket) -> None:
        raise ZeroDivisionError("early")

    with pytest.raises(WebSocketRejected) as info, client_for(app).websocket_connect("/boom"):
        pass
    assert info.value.status_code == 500
    assert b"ZeroDivisionError" not in info.value.body  # logged, never sent
    assert "unhandled error in WebSocket /boom" in caplog.text
    assert "ZeroDivisionError: early" in caplog.text


def test_error_after_accept_closes_1011_and_logs(
    make_app: MakeApp, client_for: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()

    @app.websocket("/boom")
    async def boom(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_text()
        raise KeyError("late")

    with client_for(app).websocket_connect("/boom") as session:
        session.send_text("go")
        with pytest.raises(ClientDisconnect) as info:
            session.receive_text()
    assert info.value.code == 1011
    assert "KeyError: 'late'" in caplog.text


def test_app_raising_disconnect_closes_with_its_code(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()

    @app.websocket("/leave")
    async def leave(ws: WebSocket) -> None:
        await ws.accept()
        raise WebSocketDisconnect(4000, "done here")

    with (
        client_for(app).websocket_connect("/leave") as session,
        pytest.raises(ClientDisconnect) as info,
    ):
        session.receive_text()
    assert (info.value.code, info.value.reason) == (4000, "done here")


def test_returning_after_accept_closes_normally(make_app: MakeApp, client_for: MakeClient) -> None:
    app = make_app()

    @app.websocket("/once")
    async def once(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("hi")

    with client_for(app).websocket_connect("/once") as session:
        assert session.receive_text() == "hi"
        with pytest.raises(ClientDisconnect) as info:
            session.receive_text()
    assert info.value.code == 1000


def test_close_with_code_and_reason(make_app: MakeApp, client_for: MakeClient) -> None:
    app = make_app()

    @app.websocket("/close")
    async def close(ws: WebSocket) -> None:
        await ws.accept()
        with pytest.raises(ValueError, match="at most 123"):
            await ws.close(1000, "é" * 62)  # 124 bytes
        await ws.close(4003, "forbidden topic")

    with (
        client_for(app).websocket_connect("/close") as session,
        pytest.raises(ClientDisconnect) as info,
    ):
        session.receive_text()
    assert (info.value.code, info.value.reason) == (4003, "forbidden topic")


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"bytes": b"\x00"}, 1003),  # binary where text was expected
        ({"text": "{not json"}, 1007),
    ],
)
def test_bad_client_data_closes_with_protocol_code(
    make_app: MakeApp, client_for: MakeClient, message: dict[str, Any], code: int
) -> None:
    app = make_app()
    caught: list[int] = []

    @app.websocket("/strict")
    async def strict(ws: WebSocket) -> None:
        await ws.accept()
        try:
            if "bytes" in message:
                await ws.receive_text()
            else:
                await ws.receive_json()
        except WebSocketDisconnect as exc:
            caught.append(exc.code)
            raise

    with client_for(app).websocket_connect("/strict") as session:
        session.send({"type": "websocket.receive", **message})
        with pytest.raises(ClientDisconnect) as info:
            session.receive()
    assert info.value.code == code
    assert caught == [code]


def test_receive_bytes_refuses_text(make_app: MakeApp, client_for: MakeClient) -> None:
    app = make_app()

    @app.websocket("/bin")
    async def binary(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_bytes()

    with client_for(app).websocket_connect("/bin") as session:
        session.send_text("text")
        with pytest.raises(ClientDisconnect) as info:
            session.receive()
    assert info.value.code == 1003


@pytest.mark.parametrize(
    ("payload", "ok"),
    [
        ({"text": "a" * 1024}, True),
        ({"text": "é" * 512}, True),  # 1024 bytes in UTF-8
        ({"text": "é" * 513}, False),  # 1026 bytes: measured in bytes, not characters
        ({"text": "a" * 1025}, False),
        ({"bytes": b"a" * 1024}, True),
        ({"bytes": b"a" * 1025}, False),
    ],
)
def test_message_size_limit_closes_1009(
    make_app: MakeApp, client_for: MakeClient, payload: dict[str, Any], ok: bool
) -> None:
    app = make_app()

    @app.websocket("/limited", max_message_size=1024)
    async def limited(ws: WebSocket) -> None:
        await ws.accept()
        message = await ws.receive()
        await ws.send_text(str(len(message.get("text") or message.get("bytes") or "")))

    with client_for(app).websocket_connect("/limited") as session:
        session.send({"type": "websocket.receive", **payload})
        if ok:
            assert session.receive_text()
        else:
            with pytest.raises(ClientDisconnect) as info:
                session.receive()
            assert info.value.code == 1009


def test_default_limit_is_one_mebibyte_and_app_wide_override(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()
    app.websocket_max_message_size = 8  # type: ignore[attr-defined]

    @app.websocket("/small")
    async def small(ws: WebSocket) -> None:
        await ws.accept()
        assert ws.max_message_size == 8
        async for text in ws.iter_text():
            await ws.send_text(text)

    with client_for(app).websocket_connect("/small") as session:
        session.send_text("12345678")
        assert session.receive_text() == "12345678"
        session.send_text("123456789")
        with pytest.raises(ClientDisconnect) as info:
            session.receive()
    assert info.value.code == 1009

    default = make_app()

    @default.websocket("/big")
    async def big(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text(str(ws.max_message_size))

    with client_for(default).websocket_connect("/big") as session:
        assert session.receive_text() == str(1 << 20)


def test_included_router_websocket(make_app: MakeApp, client_for: MakeClient) -> None:
    app = make_app()
    api = Router(prefix="/api")

    @api.websocket("/feed/{topic}")
    async def feed(ws: WebSocket, topic: str) -> None:
        await ws.accept()
        await ws.send_text(topic)

    app.include_router(api, prefix="/v1")
    with client_for(app).websocket_connect("/v1/api/feed/news") as session:
        assert session.receive_text() == "news"


async def _sync_placeholder(ws: WebSocket) -> None:
    pass


@pytest.mark.parametrize(
    ("path", "handler", "options", "message"),
    [
        ("/a", lambda ws: None, {}, "must be an `async def`"),
        ("/b", _sync_placeholder, {"dependencies": [object()]}, "write Depends\\(callable\\)"),
        ("/c", _sync_placeholder, {"max_message_size": 0}, "positive int or None"),
    ],
)
def test_bad_routes_fail_at_declaration_or_build(
    make_app: MakeApp, path: str, handler: Any, options: dict[str, Any], message: str
) -> None:
    app = make_app()
    with pytest.raises((HandlerSignatureError, ValueError), match=message):
        app.add_websocket_route(path, handler, **options)  # a signature: here
        app.build()  # an option's value: when the app builds


class _Item(BaseModel):
    name: str


def test_unbindable_signatures_fail_at_the_declaration(make_app: MakeApp) -> None:
    async def no_params() -> None:
        pass

    async def typed_first(count: int) -> None:
        pass

    async def body(ws: WebSocket, item: _Item) -> None:
        pass

    async def http_request(ws: WebSocket, request: Request) -> None:
        pass

    async def background(ws: WebSocket, tasks: BackgroundTasks) -> None:
        pass

    def reads_request(request: Request) -> str:
        return "x"

    async def dependency_on_request(ws: WebSocket, x: str = Depends(reads_request)) -> None:
        pass

    async def positional_only(ws: WebSocket, room: str, /) -> None:
        pass

    cases: list[tuple[Callable[..., Any], str]] = [
        (no_params, "no parameter for the connection"),
        (typed_first, "no parameter for the connection"),
        (body, "'item' would be read from a request body"),
        (http_request, "'request' is annotated Request.*annotate it HTTPConnection"),
        (background, "'tasks' asks for BackgroundTasks"),
        (dependency_on_request, "in 'test_unbindable.*reads_request'.*annotated Request"),
        (positional_only, "positional-only"),
    ]
    for handler, message in cases:
        app = make_app()
        with pytest.raises(HandlerSignatureError, match=message):
            app.add_websocket_route("/rooms/{room}", handler)


def test_a_path_no_websocket_route_matches_is_refused_with_404(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()

    @app.websocket("/ws/rooms/{room}")
    async def room(ws: WebSocket, room: str) -> None:
        await ws.accept()

    for path in ("/nowhere", "/ws/rooms/"):
        with pytest.raises(WebSocketRejected) as info, client_for(app).websocket_connect(path):
            pass
        assert info.value.status_code == 404
        assert info.value.headers["content-type"] == "application/problem+json"
