"""The handshake's Origin check: same-origin by default, an allow-list, ``"*"``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from qake_core import App
from qake_core.types import Receive, Scope, Send
from qake_testing import TestClient, WebSocketRejected
from qake_ws import OriginPolicy, WebSocket

MakeClient = Callable[[App], TestClient]
MakeApp = Callable[[], App]


def _echo_app(make_app: MakeApp, **options: Any) -> tuple[App, list[str]]:
    app = make_app()
    ran: list[str] = []

    @app.websocket("/ws", **options)
    async def echo(ws: WebSocket) -> None:
        ran.append("handler")
        await ws.accept()
        await ws.send_text(await ws.receive_text())

    return app, ran


def _assert_echoes(client: TestClient, origin: str | None, path: str = "/ws") -> None:
    headers = {} if origin is None else {"origin": origin}
    with client.websocket_connect(path, headers=headers) as session:
        session.send_text("hi")
        assert session.receive_text() == "hi"


def test_cross_site_origin_is_refused_with_403_before_the_handler(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app, ran = _echo_app(make_app)
    client = client_for(app)
    with (
        pytest.raises(WebSocketRejected) as info,
        client.websocket_connect("/ws", headers={"origin": "https://evil.example"}),
    ):
        pass
    assert info.value.status_code == 403
    assert info.value.headers["content-type"] == "application/problem+json"
    assert b"cross-origin" in info.value.body
    assert ran == []


@pytest.mark.parametrize(
    "origin",
    [
        "http://testserver",
        "HTTP://TestServer:80",  # case and default port do not matter (RFC 6454)
        None,  # a non-browser client sends no Origin
    ],
)
def test_same_origin_and_no_origin_are_allowed(
    make_app: MakeApp, client_for: MakeClient, origin: str | None
) -> None:
    app, ran = _echo_app(make_app)
    _assert_echoes(client_for(app), origin)
    assert ran == ["handler"]


@pytest.mark.parametrize(
    "origin",
    [
        "https://testserver",  # another scheme: another origin
        "http://testserver:8080",  # another port
        "http://testserver.evil.example",
        "null",  # sandboxed iframes and file: pages
    ],
)
def test_near_misses_of_the_own_origin_are_refused(
    make_app: MakeApp, client_for: MakeClient, origin: str
) -> None:
    app, ran = _echo_app(make_app)
    with (
        pytest.raises(WebSocketRejected) as info,
        client_for(app).websocket_connect("/ws", headers={"origin": origin}),
    ):
        pass
    assert info.value.status_code == 403
    assert ran == []


def test_wss_is_same_origin_with_https(make_app: MakeApp, client_for: MakeClient) -> None:
    app, _ = _echo_app(make_app)
    client = client_for(app)
    client.base_url = "https://secure.example"
    _assert_echoes(client, "https://secure.example")
    with (
        pytest.raises(WebSocketRejected),
        client.websocket_connect("/ws", headers={"origin": "http://secure.example"}),
    ):
        pass


def test_route_allow_list(make_app: MakeApp, client_for: MakeClient) -> None:
    app, _ = _echo_app(make_app, allowed_origins=["https://app.example.com:8443/"])
    client = client_for(app)
    _assert_echoes(client, "https://APP.example.com:8443")
    _assert_echoes(client, "http://testserver")  # its own origin stays allowed
    with (
        pytest.raises(WebSocketRejected),
        client.websocket_connect("/ws", headers={"origin": "https://app.example.com"}),
    ):
        pass


def test_app_wide_allow_list_and_route_override(make_app: MakeApp, client_for: MakeClient) -> None:
    app = make_app()
    app.websocket_allowed_origins = ["https://front.example"]  # type: ignore[attr-defined]

    @app.websocket("/app-wide")
    async def app_wide(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("ok")

    @app.websocket("/own", allowed_origins=[])
    async def own(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("ok")

    client = client_for(app)
    with client.websocket_connect(
        "/app-wide", headers={"origin": "https://front.example"}
    ) as session:
        assert session.receive_text() == "ok"
    with (
        pytest.raises(WebSocketRejected),
        client.websocket_connect("/own", headers={"origin": "https://front.example"}),
    ):
        pass


def test_star_allows_any_origin(make_app: MakeApp, client_for: MakeClient) -> None:
    app, _ = _echo_app(make_app, allowed_origins=["*"])
    client = client_for(app)
    _assert_echoes(client, "https://anything.example")
    _assert_echoes(client, "null")


def test_two_origin_headers_are_refused() -> None:
    policy = OriginPolicy(["https://a.example"])
    scope: Scope = {
        "type": "websocket",
        "scheme": "ws",
        "headers": [(b"host", b"a.example"), (b"origin", b"http://a.example")] * 2,
    }
    assert not policy.allows(scope)
    assert policy.allows({**scope, "headers": scope["headers"][:2]})


def test_without_the_denial_extension_the_handshake_is_closed_1008(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    inner, ran = _echo_app(make_app)

    async def no_extensions(scope: Scope, receive: Receive, send: Send) -> None:
        await inner({**scope, "extensions": {}}, receive, send)

    client = TestClient(no_extensions, backend=client_for(inner).backend)
    with (
        pytest.raises(WebSocketRejected) as info,
        client.websocket_connect("/ws", headers={"origin": "https://evil.example"}),
    ):
        pass
    assert (info.value.status_code, info.value.code) == (403, 1008)
    assert ran == []


@pytest.mark.parametrize(
    "bad",
    [
        ["https://app.example.com/path"],
        ["app.example.com"],
        ["ftp://app.example.com"],
        ["https://user@app.example.com"],
        ["https://app.example.com?x=1"],
        ["https://app.example.com:99999"],
        ["null"],
        [42],
        "https://app.example.com",  # a bare string, not a list
    ],
)
def test_a_bad_allow_list_fails_at_startup(make_app: MakeApp, bad: Any) -> None:
    app = make_app()

    @app.websocket("/ws", allowed_origins=bad)
    async def handler(ws: WebSocket) -> None:
        await ws.accept()

    with pytest.raises((ValueError, TypeError), match="allowed_origins"):
        app.build()
