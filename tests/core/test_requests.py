"""Request data, body reading and limits through the public API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from core_asgi import http_scope

from qake_core import App, CallNext, HTTPConnection, Limits, Request, Response, Router
from qake_testing import TestClient

Message = dict[str, Any]


def call(app: Any, scope: Message, incoming: list[Message]) -> list[Message]:
    """Run ``app`` with ``incoming`` messages (then disconnect); return what it sent."""
    sent: list[Message] = []
    queue = list(incoming)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        await anyio.sleep(0.01)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        await app(scope, receive, send)

    anyio.run(main)
    return sent


def status_and_body(sent: list[Message]) -> tuple[int, bytes]:
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body


def make_app(**kwargs: Any) -> App:
    app = App(**kwargs)

    @app.get("/info/{name}")
    async def info(request: Request) -> dict[str, Any]:
        client = request.client
        return {
            "method": request.method,
            "path": request.path,
            "url": str(request.url),
            "params": request.path_params,
            "q": request.query_params.getlist("q"),
            "x": request.headers.getlist("X-Multi"),
            "host": request.headers["HOST"],
            "cookies": request.cookies,
            "client": [client.host, client.port] if client else None,
            "scheme": request.url.scheme,
            "app": request.app is app,
        }

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        return Response(await request.body())

    @app.post("/json")
    async def json_(request: Request) -> Any:
        return {"got": await request.json()}

    @app.post("/stream")
    async def stream(request: Request) -> dict[str, int]:
        sizes = [len(chunk) async for chunk in request.stream()]
        return {"chunks": len(sizes), "total": sum(sizes)}

    @app.post("/small", limits=Limits(max_body_size=10))
    async def small(request: Request) -> Response:
        return Response(await request.body())

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c


def test_request_attributes(client: TestClient) -> None:
    r = client.get(
        "/info/bob?q=1&q=2",
        headers=[("X-Multi", "a"), ("x-multi", "b"), ("cookie", "session=abc")],
    )
    data = r.json()
    assert data["method"] == "GET"
    assert data["path"] == "/info/bob"
    assert data["url"] == "http://testserver/info/bob?q=1&q=2"
    assert data["params"] == {"name": "bob"}
    assert data["q"] == ["1", "2"]
    assert data["x"] == ["a", "b"]
    assert data["host"] == "testserver"
    assert data["cookies"] == {"session": "abc"}
    assert data["client"] == ["testclient", 50000]
    assert data["app"] is True


def test_http_connection_is_the_shared_base() -> None:
    assert issubclass(Request, HTTPConnection)
    conn = HTTPConnection({"type": "websocket", "path": "/ws", "headers": [(b"host", b"h")]})
    assert conn.url.path == "/ws"
    assert conn.headers["host"] == "h"


def test_malformed_json_is_400_problem(client: TestClient) -> None:
    r = client.post("/json", content=b'{"a": ')
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 400
    assert client.post("/json", content=b"\xff\xfe").status_code == 400
    assert client.post("/json", json={"a": [1]}).json() == {"got": {"a": [1]}}


def test_body_read_by_middleware_then_handler() -> None:
    app = App()
    seen: list[bytes] = []

    @app.middleware("http")
    async def peek(request: Request, call_next: CallNext) -> Response:
        seen.append(await request.body())
        return await call_next(request)

    @app.post("/")
    async def handler(request: Request) -> dict[str, Any]:
        return {"body": (await request.body()).decode(), "json": await request.json()}

    with TestClient(app) as c:
        r = c.post("/", content=b'{"k": 1}')
    assert r.json() == {"body": '{"k": 1}', "json": {"k": 1}}
    assert seen == [b'{"k": 1}']


def test_stream_yields_chunks_without_buffering() -> None:
    chunks = [{"type": "http.request", "body": b"x" * 1000, "more_body": True}] * 5
    chunks.append({"type": "http.request", "body": b""})
    sent = call(make_app(), http_scope("POST", "/stream"), chunks)
    assert status_and_body(sent) == (200, b'{"chunks":5,"total":5000}')


def test_body_limit_with_content_length(client: TestClient) -> None:
    r = client.post("/small", content=b"x" * 11)
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert client.post("/small", content=b"x" * 10).content == b"x" * 10


def test_body_limit_without_content_length() -> None:
    chunks = [{"type": "http.request", "body": b"x" * 4, "more_body": True}] * 10
    assert status_and_body(call(make_app(), http_scope("POST", "/small"), chunks))[0] == 413
    app = make_app(limits=Limits(max_body_size=100))
    chunks = [{"type": "http.request", "body": b"x" * 40, "more_body": True}] * 10
    assert status_and_body(call(app, http_scope("POST", "/stream"), chunks))[0] == 413


def test_client_disconnect_mid_body_is_not_500() -> None:
    chunks = [{"type": "http.request", "body": b"x", "more_body": True}]
    sent = call(make_app(), http_scope("POST", "/echo"), chunks)
    # The client is gone: nothing useful can be sent, and never a 500.
    assert all(m.get("status") != 500 for m in sent)


def test_stream_limit_and_bad_content_length() -> None:
    app = make_app(limits=Limits(max_body_size=100))
    with TestClient(app) as c:

        def gen() -> Iterator[bytes]:
            for _ in range(30):
                yield b"y" * 10

        assert c.post("/stream", content=gen()).status_code == 413
        assert c.post("/echo", content=b"z" * 101).status_code == 413
    # A body in several messages is checked against its declared length first; one
    # that is not a number is a 400. (A whole body in one message is simply measured.)
    chunks = [{"type": "http.request", "body": b"abc", "more_body": True}] * 2
    for length in (b"nope", b"+5000", b" 5000", b"5_000", b"-1", "\uff15".encode()):
        scope = http_scope("POST", "/echo", [(b"host", b"t"), (b"content-length", length)])
        assert status_and_body(call(app, scope, chunks))[0] == 400, length  # 1*DIGIT only
    declared = http_scope("POST", "/echo", [(b"host", b"t"), (b"content-length", b"5000")])
    assert status_and_body(call(app, declared, chunks))[0] == 413


def test_router_limits_merge() -> None:
    app = App(limits=Limits(max_body_size=1000))
    api = Router(prefix="/api", limits=Limits(max_body_size=5))

    @api.post("/a")
    async def a(request: Request) -> Response:
        return Response(await request.body())

    @api.post("/b", limits=Limits(max_body_size=50))
    async def b(request: Request) -> Response:
        return Response(await request.body())

    app.include_router(api)
    with TestClient(app) as c:
        assert c.post("/api/a", content=b"123456").status_code == 413
        assert c.post("/api/b", content=b"123456").status_code == 200


def test_too_many_headers_is_431() -> None:
    app = make_app(limits=Limits(max_header_count=20, max_header_size=2000))
    with TestClient(app) as c:
        headers = [(f"x-h{i}", "v") for i in range(30)]
        r = c.get("/info/a", headers=headers)
        assert r.status_code == 431
        assert r.headers["content-type"] == "application/problem+json"
        assert c.get("/info/a", headers={"x-big": "v" * 3000}).status_code == 431
        assert c.get("/info/a").status_code == 200


def test_trusted_proxies_only_honoured_for_trusted_peers() -> None:
    trusted = make_app(trusted_proxies=["testclient", "10.0.0.0/8"])
    untrusted = make_app(trusted_proxies=["127.0.0.1"])
    headers = {"x-forwarded-for": "1.2.3.4, 10.1.1.1", "x-forwarded-proto": "https"}
    with TestClient(trusted) as c:
        data = c.get("/info/a", headers=headers).json()
        assert data["client"][0] == "1.2.3.4"
        assert data["scheme"] == "https"
        fwd = c.get("/info/a", headers={"forwarded": 'for="[2001:db8::1]:80";proto=https'})
        assert fwd.json()["client"][0] == "2001:db8::1"
    with TestClient(untrusted) as c:
        data = c.get("/info/a", headers=headers).json()
        assert data["client"] == ["testclient", 50000]
        assert data["scheme"] == "http"
