"""Property-based tests of ``Range`` (RFC 9110 §14) on ``FileResponse``.

- ``parse_range`` takes any header and size and gives ``None`` (ignore the header), a
  list of ranges, or its own ``_RangeError`` (416): the ranges are sorted, merged,
  inside the file, and cover exactly the bytes the header asks for (a set model).
- Through a real ``FileResponse`` on a file: a 206 body is exactly those bytes (one
  range) or a ``multipart/byteranges`` body whose parts are (several), its
  ``Content-Length`` is the body's length; a 416 says ``bytes */size``.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qake_core import FileResponse
from qake_core._file_response import MAX_RANGES, _RangeError, parse_range


def examples(n: int) -> settings:
    """``n`` examples, the same ones on every run (no database, derandomized)."""
    return settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


# A range spec: (first, last) with either side omitted; first None is a suffix range.
SPEC = st.tuples(st.one_of(st.none(), st.integers(0, 70)), st.one_of(st.none(), st.integers(0, 70)))
SIZE = st.integers(0, 60)
NEAR = st.text(st.sampled_from([*"bytes=-,0123456789 ", "\t", "_", "+", "٣", "B"]), max_size=30)


def render(specs: list[tuple[int | None, int | None]], spaces: list[str]) -> str:
    parts = []
    for (first, last), space in zip(specs, spaces, strict=False):
        parts.append(f"{space}{'' if first is None else first}-{'' if last is None else last}")
    return "bytes=" + ",".join(parts)


def model(specs: list[tuple[int | None, int | None]], size: int) -> set[int] | str | None:
    """The bytes asked for; ``None``: the header is ignored; ``"416"``: unsatisfiable."""
    if len(specs) > MAX_RANGES:
        return "416"
    covered: set[int] = set()
    for first, last in specs:
        if first is None:
            if last is None:
                return None  # "-": no number at all
            if last and not size:
                return None  # the whole (empty) file: no 206 can say so, a 200 does
            covered |= set(range(max(size - last, 0), size))
            continue
        end = max(size - 1, first) if last is None else last
        if end < first:
            return None  # an invalid range: the whole header is ignored
        covered |= set(range(first, min(end, size - 1) + 1))
    return covered or "416"


def check_ranges(ranges: list[tuple[int, int]], size: int) -> None:
    assert ranges
    for start, end in ranges:
        assert 0 <= start <= end < size, (ranges, size)
    for (_, end), (start, _) in itertools.pairwise(ranges):
        assert start > end + 1, ranges  # merged: neither overlapping nor adjacent


@examples(480)
@given(header=st.one_of(st.text(max_size=40), NEAR, NEAR.map("bytes=".__add__)), size=SIZE)
def test_parse_range_returns_ranges_none_or_its_own_error(header: str, size: int) -> None:
    try:
        ranges = parse_range(header, size)
    except _RangeError:
        return
    if ranges is not None:
        check_ranges(ranges, size)


@examples(300)
@given(
    specs=st.lists(SPEC, min_size=1, max_size=MAX_RANGES + 2),
    spaces=st.lists(st.sampled_from(["", " ", "\t"]), min_size=MAX_RANGES + 2),
    size=SIZE,
)
def test_ranges_cover_exactly_the_bytes_asked_for(
    specs: list[tuple[int | None, int | None]], spaces: list[str], size: int
) -> None:
    header = render(specs, spaces)
    expected = model(specs, size)
    try:
        ranges = parse_range(header, size)
    except _RangeError:
        assert expected == "416", (header, size)
        return
    if expected is None:
        assert ranges is None, (header, size)
        return
    assert ranges is not None, (header, size)
    check_ranges(ranges, size)
    assert {i for start, end in ranges for i in range(start, end + 1)} == expected


# -- through FileResponse ------------------------------------------------------------


@pytest.fixture(scope="module")
def files() -> Iterator[dict[int, tuple[str, bytes]]]:
    """Files of every size the tests draw, named by size (content: distinct bytes)."""
    with tempfile.TemporaryDirectory() as folder:
        made = {}
        for size in range(61):
            data = bytes((i * 7 + 3) % 256 for i in range(size))
            path = os.path.join(folder, f"f{size}.bin")
            with open(path, "wb") as f:
                f.write(data)
            made[size] = (path, data)
        yield made


def serve(path: str, range_header: str) -> tuple[int, dict[str, str], bytes]:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/f",
        "headers": [(b"host", b"example.com"), (b"range", range_header.encode("latin-1"))],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(FileResponse(path, media_type="application/octet-stream")(scope, receive, send))
    start = sent[0]
    headers = {k.decode(): v.decode("latin-1") for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], headers, body


def read_byteranges(body: bytes, boundary: str, size: int) -> list[tuple[int, int, bytes]]:
    """The parts of a ``multipart/byteranges`` body: ``(start, end, bytes)``."""
    delimiter = b"--" + boundary.encode()
    assert body.startswith(delimiter)
    assert body.endswith(b"\r\n" + delimiter + b"--\r\n")
    chunks = body[: -len(b"\r\n" + delimiter + b"--\r\n")].split(b"\r\n" + delimiter)
    parts = []
    for i, chunk in enumerate(chunks):
        if i == 0:
            chunk = chunk[len(delimiter) :]
        head, _, data = chunk.partition(b"\r\n\r\n")
        found = re.search(rb"content-range: bytes (\d+)-(\d+)/(\d+)", head)
        assert found is not None, head
        assert int(found[3]) == size
        parts.append((int(found[1]), int(found[2]), data))
    return parts


@examples(150)
@given(
    specs=st.lists(SPEC, min_size=1, max_size=5),
    spaces=st.lists(st.sampled_from(["", " "]), min_size=5),
    size=SIZE,
)
def test_file_response_sends_exactly_the_bytes_asked_for(
    files: dict[int, tuple[str, bytes]],
    specs: list[tuple[int | None, int | None]],
    spaces: list[str],
    size: int,
) -> None:
    path, data = files[size]
    header = render(specs, spaces)
    status, headers, body = serve(path, header)
    expected = model(specs, size)
    assert int(headers["content-length"]) == len(body)
    if expected == "416":
        assert status == 416
        assert headers["content-range"] == f"bytes */{size}"
        return
    if expected is None:
        assert status == 200
        assert body == data
        return
    assert isinstance(expected, set)
    assert status == 206
    if "content-range" in headers:  # one range
        found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", headers["content-range"])
        assert found is not None
        start, end = int(found[1]), int(found[2])
        assert int(found[3]) == size
        assert body == data[start : end + 1]
        assert set(range(start, end + 1)) == expected
        return
    media = headers["content-type"]
    assert media.startswith("multipart/byteranges; boundary=")
    parts = read_byteranges(body, media.partition("boundary=")[2], size)
    assert len(parts) >= 2
    covered: set[int] = set()
    for start, end, chunk in parts:
        assert chunk == data[start : end + 1]
        covered |= set(range(start, end + 1))
    assert covered == expected
