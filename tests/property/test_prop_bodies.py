"""Property-based tests of request bodies: whatever the chunking, the same result.

The body is fed to the framework's real ``Request`` through an ASGI ``receive`` that
sends it in hypothesis-chosen chunks (empty ones included, the last message possibly
empty). For every chunking:

- ``body()``, ``stream()`` and ``json()`` give the same bytes / value / 400;
  ``max_body_size`` answers 413 exactly when the body is over it;
- URL-encoded forms read as ``parse_qsl`` (the glue: UTF-8 check, field cap) and round
  trip ``urlencode``; any body answers a form or a 400/413, nothing else;
- multipart forms (the glue around python-multipart) give back the fields and files a
  body was built from; any damaged body answers a form or a 4xx, never another error,
  and leaves no upload open.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qake_core import HTTPException, Request, UploadFile
from qake_core._limits import DEFAULT_LIMITS, Limits


def examples(n: int) -> settings:
    """``n`` examples, the same ones on every run (no database, derandomized)."""
    return settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


Message = dict[str, Any]


@st.composite
def chunkings(draw: st.DrawFn, body: bytes) -> list[Message]:
    """``body`` as ASGI ``http.request`` messages cut at hypothesis-chosen offsets."""
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=8)))
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    if draw(st.booleans()):
        pieces.append(b"")  # the last message carries no bytes
    messages = [{"type": "http.request", "body": p, "more_body": True} for p in pieces]
    messages[-1]["more_body"] = False
    if draw(st.booleans()):
        del messages[-1]["more_body"]  # absent means False
    return messages


def request(
    messages: list[Message], headers: list[tuple[bytes, bytes]], limits: Limits | None = None
) -> Request:
    queue = list(messages)

    async def receive() -> Message:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    return Request(scope, receive, limits=limits or DEFAULT_LIMITS)


def outcome(coroutine: Any) -> Any:
    """The coroutine's value, or ``("HTTPException", status)``; any other error fails."""

    async def run() -> Any:
        try:
            return await asyncio.wait_for(coroutine, 10)
        except HTTPException as exc:
            return ("HTTPException", exc.status_code)

    return asyncio.run(run())


BODY = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=60).map(str.encode),
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
        max_leaves=8,
    ).map(orjson.dumps),
)


@examples(180)
@given(body=BODY, data=st.data())
def test_body_stream_and_json_do_not_depend_on_the_chunking(
    body: bytes, data: st.DataObject
) -> None:
    messages = data.draw(chunkings(body))
    assert outcome(request(messages, []).body()) == body

    async def streamed(r: Request) -> bytes:
        return b"".join([chunk async for chunk in r.stream()])

    assert outcome(streamed(request(messages, []))) == body
    try:
        expected: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        expected = ("HTTPException", 400)
    assert outcome(request(messages, []).json()) == expected


@examples(180)
@given(body=st.binary(max_size=120), limit=st.integers(0, 130), data=st.data())
def test_the_body_limit_holds_whatever_the_chunking(
    body: bytes, limit: int, data: st.DataObject
) -> None:
    messages = data.draw(chunkings(body))
    limits = dataclasses.replace(DEFAULT_LIMITS, max_body_size=limit)
    declared = data.draw(st.sampled_from([None, len(body)]))
    headers = [] if declared is None else [(b"content-length", str(declared).encode())]
    expected = ("HTTPException", 413) if len(body) > limit else body
    assert outcome(request(messages, headers, limits).body()) == expected

    async def streamed(r: Request) -> bytes:
        return b"".join([chunk async for chunk in r.stream()])

    assert outcome(streamed(request(messages, headers, limits))) == expected


URLENCODED = [(b"content-type", b"application/x-www-form-urlencoded")]
TEXT = st.text(st.characters(codec="utf-8"), max_size=10)


async def read_form(r: Request) -> list[tuple[str, Any]]:
    form = await r.form()
    try:
        items = []
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                items.append((key, (value.filename, await value.read())))
            else:
                items.append((key, value))
        return items
    finally:
        await form.close()


@examples(180)
@given(pairs=st.lists(st.tuples(TEXT, TEXT), max_size=6), data=st.data())
def test_urlencoded_form_round_trips_whatever_the_chunking(
    pairs: list[tuple[str, str]], data: st.DataObject
) -> None:
    body = urlencode(pairs).encode("ascii")
    messages = data.draw(chunkings(body))
    assert outcome(read_form(request(messages, URLENCODED))) == pairs


@examples(240)
@given(
    body=st.one_of(st.binary(max_size=80), st.text(max_size=40).map(str.encode)),
    max_fields=st.integers(1, 5),
    data=st.data(),
)
def test_any_urlencoded_body_is_a_form_or_a_400_or_413(
    body: bytes, max_fields: int, data: st.DataObject
) -> None:
    messages = data.draw(chunkings(body))
    limits = dataclasses.replace(DEFAULT_LIMITS, max_form_fields=max_fields)
    got = outcome(read_form(request(messages, URLENCODED, limits)))
    try:
        expected: Any = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=max_fields
        )
    except UnicodeDecodeError:
        expected = ("HTTPException", 400)
    except ValueError:
        expected = ("HTTPException", 413)
    assert got == expected


# -- multipart ------------------------------------------------------------------------

BOUNDARY = st.text(st.sampled_from("0123456789AZaz'()+_,-./:=?"), min_size=1, max_size=70)
NAME = st.text(st.characters(codec="utf-8", exclude_characters='"\\\r\n\x00'), max_size=8)
PART = st.one_of(
    st.tuples(st.just("field"), NAME, TEXT.map(str.encode)),
    st.tuples(st.just("file"), NAME, st.binary(max_size=200)),
)


def multipart(boundary: str, parts: list[tuple[str, str, bytes]]) -> bytes:
    out = b""
    for i, (kind, name, value) in enumerate(parts):
        disposition = f'form-data; name="{name}"'
        if kind == "file":
            disposition += f'; filename="f{i}.bin"'
        out += b"--" + boundary.encode() + b"\r\n"
        out += b"Content-Disposition: " + disposition.encode() + b"\r\n"
        if kind == "file":
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + value + b"\r\n"
    return out + b"--" + boundary.encode() + b"--\r\n"


def multipart_headers(boundary: str) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b'multipart/form-data; boundary="' + boundary.encode() + b'"')]


def expected_items(parts: list[tuple[str, str, bytes]]) -> list[tuple[str, Any]]:
    return [
        (name, (f"f{i}.bin", value) if kind == "file" else value.decode())
        for i, (kind, name, value) in enumerate(parts)
    ]


def no_boundary_inside(boundary: str, parts: list[tuple[str, str, bytes]]) -> bool:
    delimiter = b"\r\n--" + boundary.encode()
    return all(delimiter not in b"\r\n" + value for _, _, value in parts)


@examples(120)
@given(boundary=BOUNDARY, parts=st.lists(PART, max_size=4), data=st.data())
def test_multipart_round_trips_whatever_the_chunking(
    boundary: str, parts: list[tuple[str, str, bytes]], data: st.DataObject
) -> None:
    if not no_boundary_inside(boundary, parts):
        return
    body = multipart(boundary, parts)
    messages = data.draw(chunkings(body))
    got = outcome(read_form(request(messages, multipart_headers(boundary))))
    assert got == expected_items(parts)


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, bytes]:
    boundary = draw(BOUNDARY)
    body = multipart(boundary, draw(st.lists(PART, max_size=3)))
    how = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "random"]))
    at = draw(st.integers(0, len(body)))
    if how == "truncate":
        body = body[:at]
    elif how == "flip" and at < len(body):
        body = body[:at] + bytes([body[at] ^ draw(st.integers(1, 255))]) + body[at + 1 :]
    elif how == "insert":
        junk = draw(st.sampled_from([b"\r\n", b"--", b"\r\n--" + boundary.encode(), b"\x00", b":"]))
        body = body[:at] + junk + body[at:]
    elif how == "delete":
        body = body[:at] + body[at + draw(st.integers(1, 8)) :]
    else:
        body = draw(st.binary(max_size=200))
    return boundary, body


@examples(240)
@given(case=damaged(), max_files=st.integers(0, 3), data=st.data())
def test_any_multipart_body_is_a_form_or_a_4xx(
    case: tuple[str, bytes], max_files: int, data: st.DataObject
) -> None:
    boundary, body = case
    messages = data.draw(chunkings(body))
    limits = dataclasses.replace(
        DEFAULT_LIMITS, max_files=max_files, max_form_fields=4, max_file_size=150
    )
    opened: list[UploadFile] = []
    original_init = UploadFile.__init__

    def tracking_init(self: UploadFile, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        opened.append(self)

    UploadFile.__init__ = tracking_init  # type: ignore[method-assign]
    try:
        got = outcome(read_form(request(messages, multipart_headers(boundary), limits)))
    finally:
        UploadFile.__init__ = original_init  # type: ignore[method-assign]
    if isinstance(got, tuple):
        assert got[0] == "HTTPException"
        assert 400 <= got[1] < 500
    # Every upload made on the way is closed: by the form's close, or at the error.
    assert all(f.file.closed for f in opened)
    # The same body cut otherwise reads the same.
    recut = request(data.draw(chunkings(body)), multipart_headers(boundary), limits)
    assert outcome(read_form(recut)) == got
