"""App-wide default response headers, and errors raised by edge middleware."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from core_asgi import PassThrough

from qake_core import (
    App,
    FileResponse,
    HTMLResponse,
    HTTPException,
    PlainTextResponse,
    Response,
    StaticFiles,
    default_headers_of,
    is_document,
    merge_default_headers,
)
from qake_core.types import Receive, Scope, Send
from qake_testing import TestClient

DEFAULTS = {"x-frame-options": "DENY", "x-content-type-options": "nosniff"}


def make_app(tmp_path: Path) -> App:
    app = App(default_headers=DEFAULTS)
    shared = PlainTextResponse("shared")  # one Response object sent many times

    @app.get("/text")
    async def text() -> Response:
        return PlainTextResponse("hi")

    @app.get("/own")
    async def own() -> Response:
        return PlainTextResponse("hi", headers={"X-Frame-Options": "SAMEORIGIN"})

    @app.get("/shared")
    async def shared_response() -> Response:
        return shared

    @app.get("/boom")
    async def boom() -> None:
        raise HTTPException(409, "conflict")

    @app.get("/file")
    async def file() -> Response:
        path = tmp_path / "f.txt"
        path.write_bytes(b"0123456789")
        return FileResponse(path)

    return app


@pytest.mark.parametrize("path", ["/text", "/boom", "/nowhere", "/file"])
def test_every_kind_of_response_gets_the_defaults(tmp_path: Path, path: str) -> None:
    with TestClient(make_app(tmp_path)) as client:
        r = client.get(path)
    for name, value in DEFAULTS.items():
        assert r.headers[name] == value, (path, dict(r.headers))


def test_405_and_ranges_get_them_too(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        assert client.delete("/text").headers["x-frame-options"] == "DENY"
        partial = client.get("/file", headers={"range": "bytes=0-3"})
    assert partial.status_code == 206
    assert partial.content == b"0123"
    assert partial.headers["x-content-type-options"] == "nosniff"


def test_a_header_the_response_set_wins(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        r = client.get("/own")
    assert r.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_a_reused_response_object_is_not_mutated(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        for _ in range(3):
            r = client.get("/shared")
            assert r.headers.get_list("x-frame-options") == ["DENY"]


def test_default_headers_reject_line_breaks() -> None:
    with pytest.raises(ValueError, match="line break"):
        App(default_headers={"x-evil": "a\r\nSet-Cookie: x=1"})


class Exploding:
    """A pure ASGI middleware that fails before the app answers."""

    def __init__(self, app: object) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raise RuntimeError("middleware bug")
        await self.app(scope, receive, send)  # type: ignore[operator]


def test_edge_middleware_error_is_a_500_problem_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()
    app.add_middleware(Exploding)

    @app.get("/")
    async def index() -> str:
        return "never"

    with (
        caplog.at_level(logging.ERROR, logger="qake.error"),
        TestClient(app, raise_server_exceptions=False) as client,
    ):
        r = client.get("/")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert "middleware bug" not in r.text  # no traceback unless debug=True
    assert len([rec for rec in caplog.records if rec.name == "qake.error"]) == 1


def test_handler_error_behind_middleware_is_answered_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()
    app.add_middleware(PassThrough)

    @app.get("/")
    async def index() -> str:
        raise ValueError("handler bug")

    with (
        caplog.at_level(logging.ERROR, logger="qake.error"),
        TestClient(app, raise_server_exceptions=False) as client,
    ):
        r = client.get("/")
    assert r.status_code == 500
    assert r.json()["status"] == 500
    assert len([rec for rec in caplog.records if rec.name == "qake.error"]) == 1
    with TestClient(app) as client, pytest.raises(ValueError, match="handler bug"):
        client.get("/")


def test_documents_get_their_own_default_headers(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<p>hi</p>")
    (tmp_path / "data.json").write_text("{}")
    app = App()
    app.set_default_headers({"x-a": "api"}, documents={"x-a": "page", "x-b": "page only"})

    @app.get("/json")
    async def json_() -> dict[str, int]:
        return {"n": 1}

    @app.get("/html")
    async def html() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>")

    @app.get("/untyped")
    async def untyped() -> Response:
        return Response(b"?")

    app.mount("/static", StaticFiles(directory=tmp_path))
    client = TestClient(app)
    for path in ("/json", "/static/data.json", "/nowhere"):
        headers = client.get(path).headers
        assert headers["x-a"] == "api", path
        assert "x-b" not in headers, path
    for path in ("/html", "/untyped", "/static/page.html"):
        headers = client.get(path).headers
        assert headers.get_list("x-a") == ["page"], path
        assert headers["x-b"] == "page only", path


@pytest.mark.parametrize(
    ("content_type", "document"),
    [
        (b"text/html; charset=utf-8", True),
        (b"TEXT/HTML", True),
        (b"application/xhtml+xml", True),
        (b"image/svg+xml", True),
        (b"application/xml", True),
        (b"application/json", False),
        (b"text/plain; charset=utf-8", False),
        (b"application/problem+json", False),
        (b"image/png", False),
        (None, True),  # no Content-Type: a browser would sniff it
    ],
)
def test_is_document(content_type: bytes | None, document: bool) -> None:
    headers = [(b"content-length", b"1")]
    if content_type is not None:
        headers.append((b"content-type", content_type))
    assert is_document(headers) is document


def test_merge_default_headers_is_usable_by_any_asgi_layer() -> None:
    defaults = default_headers_of({"x-a": "api"}, documents={"x-a": "page", "x-b": "1"})
    json_headers = ((b"content-type", b"application/json"),)  # any sequence of pairs
    assert merge_default_headers(defaults, json_headers) == [*json_headers, (b"x-a", b"api")]
    own = [(b"content-type", b"text/html"), (b"x-a", b"mine")]
    merged = merge_default_headers(defaults, own)
    assert merged == [*own, (b"x-b", b"1")]  # the response's own value wins
    assert merged is not own
    assert len(own) == 2


def test_merge_default_headers_on_a_plain_responses_own_header_list() -> None:
    defaults = default_headers_of({"x-a": "api"}, documents={"x-a": "page", "x-b": "1"})
    page = HTMLResponse("<p>hi</p>")
    text = Response("hi", media_type="text/plain")
    for response, expected in (
        (page, [(b"x-a", b"page"), (b"x-b", b"1")]),
        (text, [(b"x-a", b"api")]),
    ):
        before = list(response.raw_headers)
        merged = merge_default_headers(defaults, response.raw_headers)
        assert merged == [*before, *expected]
        assert response.raw_headers == before  # the response's own list is untouched
    page.headers["x-a"] = "mine"  # the response sets one itself: its value wins
    merged = merge_default_headers(defaults, page.raw_headers)
    assert [v for k, v in merged if k == b"x-a"] == [b"mine"]
    assert (b"x-b", b"1") in merged


@pytest.mark.parametrize("child_defaults", [None, {"x-a": "child"}])
def test_a_mounted_app_answers_with_its_own_defaults_else_its_parents(
    child_defaults: dict[str, str] | None,
) -> None:
    parent = App(default_headers={"x-a": "parent"})
    child = App(default_headers=child_defaults)

    @child.get("/json")
    async def json_() -> dict[str, int]:  # sent as bytes by the direct runner
        return {"n": 1}

    @child.get("/text")
    async def text() -> PlainTextResponse:  # a Response merged by the direct runner
        return PlainTextResponse("hi")

    @child.get("/missing-model")
    async def broken() -> dict[str, int]:
        return {"n": "not a number"}  # type: ignore[dict-item]

    parent.mount("/child", child)
    expected = "parent" if child_defaults is None else "child"
    with TestClient(parent, raise_server_exceptions=False) as client:
        for path in ("/child/json", "/child/text", "/child/nowhere", "/child/missing-model"):
            assert client.get(path).headers.get_list("x-a") == [expected], path
