"""HTTPSRedirectMiddleware: 308 to the https/wss URL with path and query kept, no
redirect to a Host that fails validation; TrustedHostMiddleware re-exported."""

from typing import Any

import anyio
import pytest

import qake_core
from qake_core import App
from qake_security import HTTPSRedirectMiddleware, TrustedHostMiddleware
from qake_testing import TestClient


def make_app(**options: Any) -> App:
    app = App()

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"item": item_id}

    @app.post("/items")
    async def create() -> dict[str, bool]:
        return {"created": True}

    app.add_middleware(HTTPSRedirectMiddleware, **options)
    return app


def plain(app: App, host: str = "example.com") -> TestClient:
    return TestClient(app, base_url=f"http://{host}", follow_redirects=False)


def test_http_is_redirected_with_path_and_query_kept() -> None:
    client = plain(make_app())
    response = client.get("/items/a%2Fb%20c?q=x%20y&empty=&u=%C3%A9#frag")
    assert response.status_code == 308
    assert (
        response.headers["location"]
        == "https://example.com/items/a%2Fb%20c?q=x%20y&empty=&u=%C3%A9"
    )
    assert response.content == b""
    posted = client.post("/items", json={"a": 1})  # 308 keeps the method and body
    assert posted.status_code == 308
    assert posted.headers["location"] == "https://example.com/items"


def test_https_passes_through() -> None:
    client = TestClient(make_app(), base_url="https://example.com")
    assert client.get("/items/7").json() == {"item": "7"}


def test_port_status_and_ipv6() -> None:
    app = make_app(https_port=8443, status_code=307)
    response = plain(app, "example.com:8080").get("/items/1")
    assert response.status_code == 307
    assert response.headers["location"] == "https://example.com:8443/items/1"
    ipv6 = plain(make_app(), "[::1]:8000").get("/items/1")
    assert ipv6.headers["location"] == "https://[::1]/items/1"


@pytest.mark.parametrize(
    "host",
    ["evil.com/x", "user@evil.com", "evil.com\\@good.com", "evil.com?", "", "a b", "[zz]"],
)
def test_a_bad_host_is_refused_not_redirected(host: str) -> None:
    async def scoped(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the app is not reached")

    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "scheme": "http",
        "method": "GET",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": [(b"host", host.encode())],
    }
    anyio.run(HTTPSRedirectMiddleware(scoped), scope, receive, send)
    assert sent[0]["status"] == 400
    assert (b"content-type", b"application/problem+json") in sent[0]["headers"]
    assert not [v for k, v in sent[0]["headers"] if k == b"location"]


def test_allowed_hosts() -> None:
    app = make_app(allowed_hosts=["example.com", "*.example.com"])
    assert plain(app, "api.example.com").get("/items/1").status_code == 308
    refused = plain(app, "example.org").get("/items/1")
    assert refused.status_code == 400
    assert "location" not in refused.headers


def websocket_exchange(scope: dict[str, Any]) -> list[Any]:
    sent: list[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "websocket.accept"})

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    base = {"type": "websocket", "path": "/ws", "raw_path": b"/ws", "query_string": b"t=1"}
    anyio.run(HTTPSRedirectMiddleware(inner), {**base, **scope}, receive, send)
    return sent


def test_websockets() -> None:
    host = [(b"host", b"example.com")]
    with_extension = websocket_exchange(
        {"scheme": "ws", "headers": host, "extensions": {"websocket.http.response": {}}}
    )
    assert with_extension[0]["type"] == "websocket.http.response.start"
    assert with_extension[0]["status"] == 308
    assert (b"location", b"wss://example.com/ws?t=1") in with_extension[0]["headers"]
    # no way to send a redirect: refused (the server answers 403), never accepted
    assert websocket_exchange({"headers": host}) == [{"type": "websocket.close", "code": 1008}]
    assert websocket_exchange({"scheme": "wss", "headers": host}) == [{"type": "websocket.accept"}]


def test_options_checked_and_trusted_host_reexported() -> None:
    app = App()
    with pytest.raises(ValueError, match="308"):
        HTTPSRedirectMiddleware(app, status_code=200)
    with pytest.raises(ValueError, match="port"):
        HTTPSRedirectMiddleware(app, https_port=0)
    with pytest.raises(TypeError, match="list"):
        HTTPSRedirectMiddleware(app, allowed_hosts="example.com")
    assert TrustedHostMiddleware is qake_core.TrustedHostMiddleware
    trusted = App()

    @trusted.get("/")
    async def index() -> dict[str, bool]:
        return {"ok": True}

    trusted.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])
    assert plain(trusted).get("/").status_code == 200
    assert plain(trusted, "evil.example").get("/").status_code == 400
