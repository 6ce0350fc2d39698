"""``request.multipart()``: the parts of a multipart body as they arrive, nothing spooled,
within the request's limits (4xx problem+json, never 500), read once."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
import pytest
from core_asgi import http_scope

from qake_core import App, Limits, MultipartPart, Request
from qake_testing import TestClient

Message = MutableMapping[str, Any]
BIG = os.urandom(700_000)  # several network chunks


def make_app(**kwargs: Any) -> App:
    app = App(**kwargs)

    @app.post("/parts")
    async def parts(request: Request) -> list[dict[str, Any]]:
        """Every part: files streamed chunk by chunk, fields read as text."""
        out = []
        async for part in request.multipart():
            assert isinstance(part, MultipartPart)
            seen: dict[str, Any] = {
                "name": part.name,
                "filename": part.filename,
                "original_filename": part.original_filename,
                "content_type": part.content_type,
                "x": part.headers.get("x-extra"),
                "is_file": part.is_file,
            }
            if part.is_file:
                chunks = [chunk async for chunk in part]
                data = b"".join(chunks)
                seen["same"] = data == BIG or data.decode("latin-1")
                seen["chunked"] = len(chunks) > 1
            else:
                seen["text"] = await part.text()
            seen["size"] = part.size
            out.append(seen)
        return out

    @app.post("/second")
    async def second(request: Request) -> dict[str, Any]:
        """Only the second part is read: the first is skipped."""
        reader = request.multipart()
        names = []
        data = b""
        async for part in reader:
            names.append(part.name)
            if len(names) == 2:
                data = await part.read()
        return {"names": names, "data": data.decode()}

    @app.post("/first-only")
    async def first_only(request: Request) -> dict[str, str]:
        """Leaves the loop at the first part: the rest of the body is never read."""
        async for part in request.multipart():
            return {"name": part.name, "text": await part.text()}
        return {}

    @app.post("/after-body")
    async def after_body(request: Request) -> list[str]:
        await request.body()  # cached: multipart() reads the parts from it
        return [part.name async for part in request.multipart()]

    @app.post("/after-stream")
    async def after_stream(request: Request) -> None:
        async for _ in request.stream():
            pass
        request.multipart()

    @app.post("/after-form")
    async def after_form(request: Request) -> None:
        await request.form()
        request.multipart()

    @app.post("/twice")
    async def twice(request: Request) -> None:
        request.multipart()
        request.multipart()

    return app


FILES: dict[str, Any] = {
    "a": (None, "plain"),
    "doc": ("../../etc/notes.txt", b"hello", "text/plain", {"x-extra": "1"}),
    "blob": ("blob.bin", BIG, "application/octet-stream"),
}


def test_parts_stream_in_order_with_their_headers() -> None:
    with TestClient(make_app(limits=Limits(max_file_size=1024 * 1024))) as c:
        r = c.post("/parts", files=FILES)
    assert r.status_code == 200, r.text
    a, doc, blob = r.json()
    assert a == {
        "name": "a",
        "filename": None,
        "original_filename": None,
        "content_type": None,
        "x": None,
        "is_file": False,
        "text": "plain",
        "size": 5,
    }
    assert doc["filename"] == "notes.txt"  # the safe base name
    assert doc["original_filename"] == "../../etc/notes.txt"
    assert (doc["content_type"], doc["x"], doc["same"], doc["size"]) == (
        "text/plain",
        "1",
        "hello",
        5,
    )
    assert blob["same"] is True
    assert blob["chunked"] is True  # chunks as they came, not one spooled file
    assert blob["size"] == len(BIG)


def test_unread_parts_are_skipped_and_an_early_exit_is_fine() -> None:
    with TestClient(make_app()) as c:
        files: dict[str, Any] = {
            "one": ("1.txt", b"x" * 5000),
            "two": (None, "second"),
            "three": (None, "3"),
        }
        assert c.post("/second", files=files).json() == {
            "names": ["one", "two", "three"],
            "data": "second",
        }
        r = c.post("/first-only", files={"one": (None, "1"), "big": ("b", BIG)})
        assert r.json() == {"name": "one", "text": "1"}


def test_a_cached_body_is_read_again() -> None:
    with TestClient(make_app()) as c:
        r = c.post("/after-body", files={"one": (None, "1"), "two": ("f", b"2")})
    assert r.json() == ["one", "two"]


@pytest.mark.parametrize("path", ["/after-stream", "/after-form", "/twice"])
def test_a_body_read_another_way_first_fails_clearly(path: str) -> None:
    with (
        TestClient(make_app()) as c,
        pytest.raises(RuntimeError, match="read a request's body one way only"),
    ):
        c.post(path, files={"one": (None, "1")})


def problem(r: Any, status: int, detail: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert detail in r.json()["detail"]


def test_the_limits_hold() -> None:
    limits = Limits(max_file_size=1000, max_form_fields=3, max_files=2, max_part_header_size=300)
    with TestClient(make_app(limits=limits)) as c:
        problem(c.post("/parts", files={"f": ("f", b"x" * 1001)}), 413, "limit of 1000 bytes")
        assert c.post("/parts", files={"f": ("f", b"x" * 1000)}).status_code == 200
        problem(c.post("/parts", files={"a": (None, "x" * (1024 * 1024 + 1))}), 413, "1 MiB")
        four = {str(i): (None, "v") for i in range(4)}
        problem(c.post("/parts", files=four), 413, "more than 3 fields")
        three_files = {str(i): (str(i), b"v") for i in range(3)}
        problem(c.post("/parts", files=three_files), 413, "more than 2 files")
        long_header = {"f": ("f", b"x", "text/plain", {"x-pad": "p" * 400})}
        problem(c.post("/parts", files=long_header), 431, "exceed 300 bytes")


def test_the_body_size_is_bounded() -> None:
    """Declared beyond max_body_size plus the file allowance (max_files x max_file_size):
    413 before a byte is read."""
    limits = Limits(max_body_size=1000, max_files=1, max_file_size=1000)
    with TestClient(make_app(limits=limits)) as c:
        body = b"--b\r\n" + b"x" * 2500
        r = c.post(
            "/parts",
            content=body,
            headers={"content-type": "multipart/form-data; boundary=b"},
        )
        problem(r, 413, "2000 bytes")


MALFORMED = {
    "truncated": (
        "multipart/form-data; boundary=b",
        b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue',
        400,
        "closing boundary",
    ),
    "no disposition": (
        "multipart/form-data; boundary=b",
        b"--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--\r\n",
        400,
        "Content-Disposition",
    ),
    "not utf-8": (
        "multipart/form-data; boundary=b",
        b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n\xff\xfe\r\n--b--\r\n',
        400,
        "UTF-8",
    ),
    "garbage headers": (
        "multipart/form-data; boundary=b",
        b"--b\r\n\x00\x01bad\r\n\r\n--b--\r\n",
        400,
        "Malformed multipart",
    ),
    "no boundary": ("multipart/form-data", b"--b--\r\n", 400, "boundary"),
    "bad boundary": ("multipart/form-data; boundary=a\x7f", b"", 400, "Content-Type"),
    "json": ("application/json", b"{}", 415, "multipart/form-data"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_body_is_a_4xx_problem(case: str) -> None:
    content_type, body, status, detail = MALFORMED[case]
    with TestClient(make_app()) as c:
        r = c.post("/parts", content=body, headers={"content-type": content_type})
        problem(r, status, detail)


def test_a_missing_content_type_is_415() -> None:
    with TestClient(make_app()) as c:
        problem(c.post("/parts", content=b"x"), 415, "multipart/form-data")


def stalling(first: bytes) -> Callable[[], Awaitable[Message]]:
    calls = 0

    async def receive() -> Message:
        nonlocal calls
        calls += 1
        if calls == 1:
            return {"type": "http.request", "body": first, "more_body": True}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    return receive


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_stalled_part_is_408(backend: str) -> None:
    """The body deadline holds between chunks of a part being streamed."""
    app = make_app(limits=Limits(body_timeout=0.2))
    headers = [
        (b"host", b"testserver"),
        (b"content-type", b"multipart/form-data; boundary=b"),
        (b"content-length", b"100000"),
    ]
    first = b'--b\r\nContent-Disposition: form-data; name="f"; filename="f"\r\n\r\nabc'
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        with anyio.fail_after(5):
            await app(http_scope("POST", "/parts", headers), stalling(first), send)

    started = time.monotonic()
    anyio.run(main, backend=backend)
    assert time.monotonic() - started < 3
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 408
