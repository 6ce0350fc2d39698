"""Hook chain order, pure ASGI middleware and the built-in middleware."""

from __future__ import annotations

import contextvars
import gzip
import logging
from collections.abc import AsyncIterator
from typing import Any

import brotli
import pytest
import zstandard

from qake_core import (
    AccessLogMiddleware,
    App,
    BackgroundTasks,
    CallNext,
    GZipMiddleware,
    Middleware,
    PlainTextResponse,
    Request,
    RequestIDFilter,
    RequestIDMiddleware,
    Response,
    Router,
    StreamingResponse,
    TrustedHostMiddleware,
    request_id_var,
)
from qake_core.types import ASGIApp, Receive, Scope, Send
from qake_testing import TestClient

trail: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("trail", default=())


def tagger(name: str) -> Any:
    async def hook(request: Request, call_next: CallNext) -> Response:
        trail.set((*trail.get(), name))
        response = await call_next(request)
        response.headers.append("x-order", name)
        return response

    hook.__name__ = name
    return hook


class HeaderASGI:
    def __init__(self, app: ASGIApp, value: str) -> None:
        self.app = app
        self.value = value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def wrapped(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-asgi", self.value.encode())]
            await send(message)

        await self.app(scope, receive, wrapped)


def test_hook_order_and_contextvars() -> None:
    done: list[str] = []
    app = App(hooks=[tagger("app-1")], middleware=[Middleware(HeaderASGI, value="one")])
    app.add_middleware(HeaderASGI, value="two")

    @app.middleware("http")
    async def decorated(request: Request, call_next: CallNext) -> Response:
        return await tagger("app-2")(request, call_next)

    router = Router(prefix="/r", middleware=[tagger("router")])

    @router.get("/x", middleware=[tagger("route")])
    async def x(request: Request) -> StreamingResponse:
        tasks = BackgroundTasks()
        tasks.add_task(done.append, ",".join(trail.get()))

        async def body() -> AsyncIterator[bytes]:
            yield b"a"
            yield b"b"

        return StreamingResponse(body(), background=tasks)

    app.include_router(router)
    with TestClient(app) as c:
        r = c.get("/r/x")
    assert r.content == b"ab"
    assert done == ["app-1,app-2,router,route"]
    # Responses pass back through the hooks innermost first.
    assert r.headers.get_list("x-order") == ["route", "router", "app-2", "app-1"]
    # The last added ASGI middleware is the outermost (sees the response last).
    assert r.headers.get_list("x-asgi") == ["one", "two"]


def test_middleware_cannot_be_added_after_start() -> None:
    app = App()
    with TestClient(app):
        pass
    with pytest.raises(RuntimeError, match="after the application has started"):
        app.add_middleware(HeaderASGI, value="late")


def big_app(**gzip_options: Any) -> App:
    app = App(middleware=[Middleware(GZipMiddleware, minimum_size=100, **gzip_options)])

    @app.get("/big")
    async def big() -> PlainTextResponse:
        return PlainTextResponse("x" * 1000, headers={"vary": "Cookie"})

    @app.get("/small")
    async def small() -> PlainTextResponse:
        return PlainTextResponse("tiny")

    @app.get("/encoded")
    async def encoded() -> Response:
        return Response(b"y" * 1000, headers={"content-encoding": "identity-custom"})

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def gen() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b"z" * 200

        return StreamingResponse(gen(), media_type="text/plain")

    @app.get("/events")
    async def events() -> StreamingResponse:
        async def gen() -> AsyncIterator[bytes]:
            yield b"data: x\n\n" * 100

        return StreamingResponse(gen(), media_type="text/event-stream")

    return app


def enc(c: TestClient, path: str, accept: str) -> Any:
    return c.get(path, headers={"accept-encoding": accept}).headers


def test_gzip() -> None:
    with TestClient(big_app()) as c:
        r = c.get("/big", headers={"accept-encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip"
        assert r.headers["vary"] == "Cookie, Accept-Encoding"
        assert r.text == "x" * 1000  # httpx decodes
        assert int(r.headers["content-length"]) < 100
        assert "content-encoding" not in enc(c, "/small", "gzip")
        r = c.get("/encoded", headers={"accept-encoding": "gzip"})
        assert r.headers["content-encoding"] == "identity-custom"
        r = c.get("/stream", headers={"accept-encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip"
        assert r.text == "z" * 2000
        assert "content-encoding" not in enc(c, "/events", "gzip")
        assert "content-encoding" not in enc(c, "/big", "identity")
        assert "content-encoding" not in enc(c, "/big", "gzip;q=0")


def test_brotli_and_zstd_preferred_when_installed() -> None:
    with TestClient(big_app()) as c:
        with c.stream("GET", "/big", headers={"accept-encoding": "gzip, br"}) as r:
            raw = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "br"
        assert brotli.decompress(raw) == b"x" * 1000
        with c.stream("GET", "/big", headers={"accept-encoding": "gzip, br, zstd"}) as r:
            raw = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "zstd"
        assert zstandard.ZstdDecompressor().decompressobj().decompress(raw) == b"x" * 1000
    with TestClient(big_app(brotli=False, zstd=False)) as c:
        with c.stream("GET", "/big", headers={"accept-encoding": "br, zstd, gzip"}) as r:
            raw = b"".join(r.iter_raw())
        assert gzip.decompress(raw) == b"x" * 1000


def id_app() -> App:
    app = App(middleware=[Middleware(RequestIDMiddleware), Middleware(AccessLogMiddleware)])

    @app.get("/")
    async def index(request: Request) -> dict[str, Any]:
        logging.getLogger("test.app").warning("inside")
        return {"state": request.state.request_id, "var": request_id_var.get()}

    return app


def test_request_id(caplog: pytest.LogCaptureFixture) -> None:
    handler_filter = RequestIDFilter()
    caplog.handler.addFilter(handler_filter)
    caplog.set_level(logging.INFO)
    try:
        with TestClient(id_app()) as c:
            r = c.get("/", headers={"x-request-id": "abc-123.X_y"})
            assert r.headers["x-request-id"] == "abc-123.X_y"
            assert r.json() == {"state": "abc-123.X_y", "var": "abc-123.X_y"}
            for bad in ["", "a" * 129, "bad id", "<script>"]:
                r = c.get("/", headers={"x-request-id": bad})
                generated = r.headers["x-request-id"]
                assert generated != bad
                assert 1 <= len(generated) <= 128
            ids = {c.get("/").headers["x-request-id"] for _ in range(20)}
            assert len(ids) == 20
    finally:
        caplog.handler.removeFilter(handler_filter)
    inside = [r for r in caplog.records if r.getMessage() == "inside"]
    assert inside[0].request_id == "abc-123.X_y"  # type: ignore[attr-defined]
    access = [r for r in caplog.records if r.name == "qake.access"]
    assert access[0].http_status == 200  # type: ignore[attr-defined]
    assert access[0].request_id == "abc-123.X_y"  # type: ignore[attr-defined]
    assert access[0].http_path == "/"  # type: ignore[attr-defined]
    assert request_id_var.get() is None


def test_trusted_host() -> None:
    app = App(
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=["example.com", "*.example.org"])
        ]
    )

    @app.get("/")
    async def index() -> str:
        return "ok"

    with TestClient(app, base_url="http://example.com") as c:
        assert c.get("/").status_code == 200
        assert c.get("/", headers={"host": "api.example.org:8080"}).status_code == 200
        for host in ["evil.com", "example.org", "example.com.evil.com", ""]:
            r = c.get("/", headers={"host": host})
            assert r.status_code == 400, host
            assert r.headers["content-type"] == "application/problem+json"


def test_server_error_middleware_debug_and_streams() -> None:
    def make(debug: bool) -> App:
        app = App(debug=debug, middleware=[Middleware(HeaderASGI, value="v")])

        @app.get("/boom")
        async def boom() -> None:
            raise KeyError("internal-detail")

        @app.get("/half")
        async def half() -> StreamingResponse:
            async def gen() -> AsyncIterator[bytes]:
                yield b"partial"
                raise RuntimeError("midway")

            return StreamingResponse(gen())

        return app

    with TestClient(make(False), raise_server_exceptions=False) as c:
        r = c.get("/boom")
        assert (r.status_code, "internal-detail" in r.text) == (500, False)
        r = c.get("/half")
        assert r.status_code == 200  # the first response stands; no second one was sent
    with TestClient(make(True), raise_server_exceptions=False) as c:
        assert "internal-detail" in c.get("/boom").text
        assert "<pre>" in c.get("/boom", headers={"accept": "text/html"}).text
