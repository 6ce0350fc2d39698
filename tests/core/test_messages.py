"""The ASGI messages of a response (``qake_core._messages``): one function applies the
HEAD rule and the default headers, for every kind of response and every route runner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from qake_core import (
    App,
    BackgroundTasks,
    EventSourceResponse,
    FileResponse,
    PlainTextResponse,
    Request,
    Response,
    StreamingResponse,
    cache,
    default_headers_of,
)
from qake_core._messages import content_type, not_modified_headers, response_messages
from qake_core._responses import finished_response
from qake_testing import TestClient

DEFAULTS = default_headers_of({"x-a": "api"}, documents={"x-a": "page"})


def test_a_complete_body_and_the_defaults() -> None:
    own = [(b"content-length", b"2"), (b"content-type", b"text/plain; charset=utf-8")]
    start, body = response_messages(201, own, b"hi", "GET", DEFAULTS)
    assert start == {
        "type": "http.response.start",
        "status": 201,
        "headers": [*own, (b"x-a", b"api")],
    }
    assert body == {"type": "http.response.body", "body": b"hi"}
    assert len(own) == 2  # the response's own list is never changed


def test_head_sends_the_headers_and_no_body() -> None:
    own = [(b"content-length", b"2")]
    start, body = response_messages(200, own, b"hi", "HEAD", None)
    assert start["headers"] is own  # no defaults: the list is sent as it is
    assert body == {"type": "http.response.body", "body": b""}


@pytest.mark.parametrize(("method", "streamed"), [("GET", True), ("HEAD", False)])
def test_a_streamed_body_is_the_callers_unless_head(method: str, streamed: bool) -> None:
    start, end = response_messages(200, [], None, method, DEFAULTS)
    assert start["headers"] == [(b"x-a", b"page")]  # no Content-Type: a document
    assert (end is None) is streamed
    if not streamed:
        assert end == {"type": "http.response.body", "body": b""}


def test_the_charset_rule() -> None:
    assert content_type("text/csv", "latin-1") == b"text/csv; charset=latin-1"
    assert content_type("text/csv; charset=ascii", "utf-8") == b"text/csv; charset=ascii"
    assert content_type("application/json", "utf-8") == b"application/json"


def test_a_304_keeps_the_validators_and_cache_headers() -> None:
    headers = [
        (b"content-length", b"5"),
        (b"content-type", b"text/plain"),
        (b"etag", b'"x"'),
        (b"vary", b"accept"),
        (b"x-other", b"1"),
    ]
    assert not_modified_headers(headers) == [(b"etag", b'"x"'), (b"vary", b"accept")]


def test_a_finished_response_is_sent_as_built() -> None:
    lines = [(b"content-length", b"2"), (b"x-b", b"1")]
    response = finished_response(PlainTextResponse, 202, lines, b"ok")
    assert type(response) is PlainTextResponse
    assert (response.status_code, response.raw_headers, response.body) == (202, lines, b"ok")
    assert response.background is None


async def _chunks() -> AsyncIterator[bytes]:
    yield b"one "
    yield b"two"


def make_app(tmp_path: Path) -> App:
    app = App()
    app.set_default_headers({"x-a": "api"}, documents={"x-a": "page"})
    (tmp_path / "f.txt").write_bytes(b"0123456789")

    @app.get("/direct-response")  # the direct runner sends a Response
    async def direct_response() -> PlainTextResponse:
        return PlainTextResponse("hello")

    @app.get("/direct-json")  # the direct runner sends a model's bytes, no Response
    async def direct_json() -> dict[str, int]:
        return {"n": 1}

    @app.get("/request")  # the request runner
    async def with_request(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    @app.get("/background")  # Response.__call__ (background tasks)
    async def background() -> Response:
        async def nothing() -> None:
            pass

        tasks = BackgroundTasks()
        tasks.add_task(nothing)
        return PlainTextResponse("hello", background=tasks)

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(_chunks(), media_type="text/plain")

    @app.get("/events")
    async def events() -> EventSourceResponse:
        return EventSourceResponse(_chunks())

    @app.get("/file")
    async def file() -> FileResponse:
        return FileResponse(tmp_path / "f.txt")

    @app.get("/cached")
    @cache(ttl=60)
    async def cached() -> PlainTextResponse:
        return PlainTextResponse("hello")

    return app


PATHS = [
    "/direct-response",
    "/direct-json",
    "/request",
    "/background",
    "/stream",
    "/events",
    "/file",
    "/cached",
]


@pytest.mark.parametrize("path", PATHS)
def test_head_and_the_defaults_the_same_way_for_every_response(tmp_path: Path, path: str) -> None:
    with TestClient(make_app(tmp_path)) as client:
        get = client.get(path)
        head = client.head(path)
    assert get.status_code == head.status_code == 200
    assert get.content
    assert head.content == b""
    assert get.headers.get_list("x-a") == head.headers.get_list("x-a") == ["api"]
    assert head.headers.get("content-type") == get.headers.get("content-type")


@pytest.mark.parametrize("path", ["/file", "/cached"])
def test_a_304_gets_the_defaults_like_any_response(tmp_path: Path, path: str) -> None:
    with TestClient(make_app(tmp_path)) as client:
        etag = client.get(path).headers["etag"]
        for method in ("GET", "HEAD"):
            r = client.request(method, path, headers={"if-none-match": etag})
            assert (r.status_code, r.content) == (304, b"")
            assert r.headers["etag"] == etag
            assert "content-type" not in r.headers
            # No Content-Type: the document set, as for any response without one.
            assert r.headers.get_list("x-a") == ["page"]


def test_a_range_of_a_file_gets_the_defaults_by_what_is_sent(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        one = client.get("/file", headers={"range": "bytes=0-3"})
        several = client.get("/file", headers={"range": "bytes=0-1,5-6"})
        head = client.head("/file", headers={"range": "bytes=0-1,5-6"})
    assert (one.status_code, one.content) == (206, b"0123")
    assert one.headers.get_list("x-a") == ["api"]
    assert several.status_code == 206
    assert several.headers["content-type"].startswith("multipart/byteranges")
    assert several.headers.get_list("x-a") == ["api"]
    assert (head.status_code, head.content) == (206, b"")
