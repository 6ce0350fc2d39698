"""The response family, cookies, redirects, SSE, HEAD/OPTIONS and error behaviour."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from qake_core import (
    App,
    EventSourceResponse,
    HTMLResponse,
    HTTPException,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Request,
    Response,
    ServerSentEvent,
    StreamingResponse,
    is_safe_redirect,
)
from qake_testing import TestClient


def make_app() -> App:
    app = App()

    @app.get("/text")
    async def text() -> PlainTextResponse:
        return PlainTextResponse("hé")

    @app.get("/html")
    async def html() -> HTMLResponse:
        return HTMLResponse("<b>x</b>", headers={"x-a": "1"})

    @app.get("/json")
    async def json_() -> JSONResponse:
        return JSONResponse({"a": [1, 2]}, status_code=201)

    @app.get("/dict")
    async def dict_() -> dict[str, int]:
        return {"a": 1}

    @app.get("/str")
    async def str_():  # type: ignore[no-untyped-def]  # no annotation: no response model
        return "plain"

    @app.delete("/none", status_code=204)
    async def none() -> None:
        return None

    @app.get("/redirect")
    async def redirect(request: Request) -> RedirectResponse:
        target = request.query_params.get("next", "/")
        return RedirectResponse(target if is_safe_redirect(target) else "/", 303)

    @app.get("/cookies")
    async def cookies() -> Response:
        r = Response("ok")
        r.set_cookie("a", "1", httponly=True, secure=True, samesite="strict")
        r.set_cookie("__Host-id", "x", secure=True, partitioned=True)
        r.delete_cookie("old")
        return r

    @app.get("/async-stream")
    async def async_stream() -> StreamingResponse:
        async def gen() -> AsyncIterator[str]:
            for i in range(3):
                yield f"{i},"

        return StreamingResponse(gen(), media_type="text/plain")

    @app.get("/sync-stream")
    async def sync_stream() -> StreamingResponse:
        def gen() -> Iterator[bytes]:
            yield b"a"
            yield b"b"

        return StreamingResponse(gen())

    @app.get("/broken-stream")
    async def broken_stream() -> StreamingResponse:
        async def gen() -> AsyncIterator[bytes]:
            yield b"first"
            raise RuntimeError("midway")

        return StreamingResponse(gen())

    @app.get("/sse")
    async def sse() -> EventSourceResponse:
        async def events() -> AsyncIterator[Any]:
            yield ServerSentEvent(data="hello\nworld", event="greet", id="1", retry=500)
            await anyio.sleep(0.05)
            yield {"n": 1}

        return EventSourceResponse(events(), ping_interval=0.01)

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418, "short and stout", headers={"x-tea": "yes"})

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("secret internals")

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app(), follow_redirects=False) as c:
        yield c


def test_basic_responses(client: TestClient) -> None:
    r = client.get("/text")
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.text == "hé"
    assert r.headers["content-length"] == str(len("hé".encode()))
    r = client.get("/html")
    assert (r.headers["content-type"], r.headers["x-a"]) == ("text/html; charset=utf-8", "1")
    r = client.get("/json")
    assert (r.status_code, r.json()) == (201, {"a": [1, 2]})
    assert client.get("/dict").json() == {"a": 1}
    assert client.get("/str").headers["content-type"].startswith("text/plain")
    r = client.delete("/none")
    assert (r.status_code, r.content) == (204, b"")


def test_head_and_options_are_automatic(client: TestClient) -> None:
    r = client.head("/text")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-length"] == "3"
    r = client.options("/text")
    assert r.status_code == 204
    assert r.headers["allow"] == "GET, HEAD, OPTIONS"
    r = client.post("/text")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD, OPTIONS"
    assert r.json()["title"] == "Method Not Allowed"
    assert client.get("/missing").json()["status"] == 404


def test_http_exception_and_500_are_problem_json(client: TestClient) -> None:
    r = client.get("/teapot")
    assert r.status_code == 418
    assert r.headers["x-tea"] == "yes"
    doc = r.json()
    assert set(doc) >= {"type", "title", "status", "detail"}
    assert doc["detail"] == "short and stout"
    with TestClient(make_app(), raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert "secret" not in r.text


def test_redirects_and_open_redirect_check(client: TestClient) -> None:
    r = client.get("/redirect", params={"next": "/home?x=1"})
    assert (r.status_code, r.headers["location"]) == (303, "/home?x=1")
    for evil in ["//evil.com", "https://evil.com/", "/\\evil.com", "javascript:alert(1)"]:
        assert client.get("/redirect", params={"next": evil}).headers["location"] == "/"
    assert is_safe_redirect("https://shop.example/x", allowed_hosts=["shop.example"])
    assert not is_safe_redirect("http://shop.example/x", ["shop.example"], require_https=True)
    assert not is_safe_redirect("https://user@evil.com", ["evil.com"])
    assert not is_safe_redirect("/ok\r\nx")


def test_cookies(client: TestClient) -> None:
    lines = client.get("/cookies").headers.get_list("set-cookie")
    assert lines[0] == "a=1; Path=/; Secure; HttpOnly; SameSite=Strict"
    assert lines[1] == "__Host-id=x; Path=/; Secure; SameSite=Lax; Partitioned"
    assert lines[2].startswith("old=; Max-Age=0; Expires=")
    with pytest.raises(ValueError, match="__Host-"):
        Response().set_cookie("__Host-x", "1", secure=True, domain="example.com")
    with pytest.raises(ValueError, match="SameSite=None"):
        Response().set_cookie("x", "1", samesite="none")
    with pytest.raises(ValueError, match="Partitioned"):
        Response().set_cookie("x", "1", partitioned=True)


def test_streaming(client: TestClient) -> None:
    assert client.get("/async-stream").text == "0,1,2,"
    assert client.get("/sync-stream").content == b"ab"


def test_error_after_response_started_sends_no_second_response() -> None:
    sent: list[dict[str, Any]] = []

    async def main() -> None:
        app = make_app()
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/broken-stream",
            "raw_path": b"/broken-stream",
            "root_path": "",
            "query_string": b"",
            "headers": [],
            "scheme": "http",
        }

        async def receive() -> dict[str, Any]:
            await anyio.sleep(1)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        with pytest.raises(RuntimeError, match="midway"):
            await app(scope, receive, send)

    anyio.run(main)
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1
    assert starts[0]["status"] == 200
    assert not any(m.get("more_body") is False for m in sent)


def test_server_sent_events(client: TestClient) -> None:
    r = client.get("/sse")
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert r.headers["cache-control"] == "no-store"
    text = r.text
    assert "event: greet\nid: 1\nretry: 500\ndata: hello\ndata: world\n\n" in text
    assert ": ping\n\n" in text
    assert text.endswith('data: {"n":1}\n\n')
    with pytest.raises(ValueError, match="line break"):
        ServerSentEvent(data="x", event="a\nb").encode()


@pytest.mark.parametrize("size", [0, 1, 2047, 2048, 70_000])
def test_content_length_matches_the_body_at_every_size(size: int) -> None:
    for _ in range(2):  # the second response of a size reuses the first one's line
        response = Response(b"x" * size)
        assert response.raw_headers == [(b"content-length", str(size).encode())]
        plain = PlainTextResponse("y" * size, status_code=201)
        assert dict(plain.raw_headers)[b"content-length"] == str(size).encode()
    assert Response(b"x", status_code=204).raw_headers == []
    assert PlainTextResponse("", status_code=304).raw_headers == [
        (b"content-type", b"text/plain; charset=utf-8")
    ]
