"""``FileResponse``: a file sent in chunks, with validators, conditional GET and ranges."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from email.utils import formatdate, parsedate_to_datetime
from mimetypes import guess_type

import anyio

from qake_core._background import BackgroundTasks
from qake_core._datastructures import Headers
from qake_core._default_headers import CONTENT_TYPE, DEFAULT_HEADERS_KEY
from qake_core._messages import content_type, not_modified_headers, response_messages
from qake_core._problem import problem_response
from qake_core._request_head import digits
from qake_core._responses import Response
from qake_core.types import Receive, Scope, Send

__all__ = ["FileResponse"]

#: Bytes read (in a worker thread) and sent per body message.
#: PERF: 256 KiB, not 64: each chunk is one thread hand-off; a 10 MiB download's
#: in-process CPU 11.1-12.3 -> 4.5 ms (1 MiB: 2.9 ms, the bare app 2.3; benchmarks/
#: transfers.py, S11). 256 KiB of buffer per download in flight; FileResponse's
#: ``chunk_size`` changes it per response.
CHUNK_SIZE = 256 * 1024
#: More ranges than this in one request is treated as abuse: 416.
MAX_RANGES = 16


class _RangeError(Exception):
    pass


def parse_range(header: str, size: int) -> list[tuple[int, int]] | None:
    """Ranges of ``bytes=...`` as inclusive ``(start, end)``, merged; ``None`` to ignore.

    Raises ``_RangeError`` when nothing is satisfiable or there are too many ranges.
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        return None
    parts = spec.split(",")
    if len(parts) > MAX_RANGES:
        raise _RangeError
    ranges: list[tuple[int, int]] = []
    for part in parts:
        first, dash, last = part.strip().partition("-")
        if not dash:
            return None
        # Positions are 1*DIGIT (RFC 9110 §14.1.1): no sign, space or "_" inside.
        if not first:  # suffix: the last N bytes
            n = digits(last)
            if n is None:
                return None
            if n == 0:
                continue
            if size == 0:
                # RFC 9110 §14.1.1: satisfiable (the whole, empty, file), yet no 206
                # can carry zero bytes: the header is ignored (200, empty body).
                return None
            ranges.append((max(size - n, 0), size - 1))
            continue
        start = digits(first)
        end = digits(last) if last else max(size - 1, start or 0)
        if start is None or end is None or end < start:
            return None
        if start < size:
            ranges.append((start, min(end, size - 1)))
    if not ranges:
        raise _RangeError
    ranges.sort()
    merged = [ranges[0]]
    for start, end in ranges[1:]:
        last_start, last_end = merged[-1]
        if start <= last_end + 1:
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged


class FileResponse(Response):
    """Send the file at ``path``, read in chunks through anyio (never whole in memory).

    Adds ``ETag`` (from size and mtime), ``Last-Modified``, ``Accept-Ranges``; answers
    ``If-None-Match``/``If-Modified-Since`` with 304, ``Range`` with 206 (one range)
    or ``multipart/byteranges`` (several; at most ``MAX_RANGES``) and unsatisfiable
    ranges with 416. ``If-Range`` is honoured. HEAD sends the headers only.
    """

    __slots__ = ("chunk_size", "content_disposition_type", "filename", "path", "stat_result")

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTasks | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        self.path = os.fspath(path)
        self.status_code = status_code
        self.background = background
        self.filename = filename
        self.stat_result = stat_result
        self.chunk_size = CHUNK_SIZE
        self.content_disposition_type = content_disposition_type
        self.body = b""
        self.raw_headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
        ]
        if media_type is None:
            media_type = guess_type(filename or self.path)[0] or "application/octet-stream"
        self.raw_headers.append((CONTENT_TYPE, content_type(media_type, self.charset)))
        if filename is not None:
            from urllib.parse import quote

            quoted = quote(filename)
            value = f"{content_disposition_type}; filename*=utf-8''{quoted}"
            if quoted == filename:
                value = f'{content_disposition_type}; filename="{filename}"'
            self.raw_headers.append((b"content-disposition", value.encode("latin-1")))

    def _validators(self, st: os.stat_result) -> tuple[str, str]:
        tag = hashlib.md5(f"{st.st_mtime_ns}-{st.st_size}".encode(), usedforsecurity=False)
        return f'"{tag.hexdigest()}"', formatdate(st.st_mtime, usegmt=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        st = self.stat_result
        if st is None:
            try:
                st = await anyio.Path(self.path).stat()
            except (FileNotFoundError, NotADirectoryError):
                await problem_response(404, "File not found.")(scope, receive, send)
                return
        if not stat.S_ISREG(st.st_mode):
            await problem_response(404, "File not found.")(scope, receive, send)
            return
        etag, last_modified = self._validators(st)
        headers = self.raw_headers
        have = {k for k, _ in headers}
        if b"etag" not in have:
            headers.append((b"etag", etag.encode()))
        if b"last-modified" not in have:
            headers.append((b"last-modified", last_modified.encode()))
        headers.append((b"accept-ranges", b"bytes"))
        request_headers = Headers(raw=scope["headers"])
        method: str = scope.get("method", "")
        defaults = scope.get(DEFAULT_HEADERS_KEY)
        if self.status_code == 200 and _is_fresh(request_headers, etag, st.st_mtime):
            start, end = response_messages(
                304, not_modified_headers(headers), b"", method, defaults
            )
            await send(start)
            await send(end)
            return
        size = st.st_size
        ranges: list[tuple[int, int]] | None = None
        range_header = request_headers.get("range")
        if (
            range_header
            and self.status_code == 200
            and _if_range_ok(request_headers, etag, last_modified)
        ):
            try:
                ranges = parse_range(range_header, size)
            except _RangeError:
                await problem_response(
                    416,
                    "The requested range is not satisfiable.",
                    headers={"content-range": f"bytes */{size}"},
                )(scope, receive, send)
                return
        status, parts, tail = _body_of(headers, self.status_code, ranges, size)
        start, body = response_messages(status, headers, None, method, defaults)
        await send(start)
        if body is not None:  # HEAD: the headers only
            await send(body)
        else:
            await self._send_parts(parts, tail, send)
        if self.background is not None:
            await self.background()

    async def _send_parts(
        self, parts: list[tuple[int, int, bytes]], tail: bytes, send: Send
    ) -> None:
        """Send each ``(start, end, preamble)`` part of the file, then ``tail``."""
        chunk_size = self.chunk_size
        async with await anyio.open_file(self.path, "rb") as f:
            for i, (start, end, preamble) in enumerate(parts):
                if preamble:
                    prefix = (b"\r\n" if i else b"") + preamble
                    await send({"type": "http.response.body", "body": prefix, "more_body": True})
                await f.seek(start)
                remaining = end - start + 1
                while remaining > 0:
                    data = await f.read(min(chunk_size, remaining))
                    if not data:
                        break
                    remaining -= len(data)
                    await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": tail})


def _body_of(
    headers: list[tuple[bytes, bytes]],
    status: int,
    ranges: list[tuple[int, int]] | None,
    size: int,
) -> tuple[int, list[tuple[int, int, bytes]], bytes]:
    """The status, the ``(start, end, preamble)`` parts and the tail of a file's body
    of ``size`` bytes: the whole file, one range or several as ``multipart/byteranges``.
    Adds the body's Content-Length (and Content-Range or multipart type) to ``headers``."""
    if not ranges:
        headers.append((b"content-length", str(size).encode()))
        return status, [(0, size - 1, b"")] if size else [], b""
    if len(ranges) == 1:
        start, end = ranges[0]
        headers.append((b"content-range", f"bytes {start}-{end}/{size}".encode()))
        headers.append((b"content-length", str(end - start + 1).encode()))
        return 206, [(start, end, b"")], b""
    boundary = os.urandom(12).hex()
    media = b""
    for i, (k, v) in enumerate(headers):
        if k == CONTENT_TYPE:
            media = v
            headers[i] = (k, f"multipart/byteranges; boundary={boundary}".encode())
    parts = [
        (
            start,
            end,
            b"--%s\r\ncontent-type: %s\r\ncontent-range: bytes %d-%d/%d\r\n\r\n"
            % (boundary.encode(), media, start, end, size),
        )
        for start, end in ranges
    ]
    tail = f"\r\n--{boundary}--\r\n".encode()
    total = sum(len(p) + end - start + 1 for start, end, p in parts)
    total += 2 * (len(parts) - 1) + len(tail)
    headers.append((b"content-length", str(total).encode()))
    return 206, parts, tail


def _is_fresh(headers: Headers, etag: str, mtime: float) -> bool:
    """Whether the request's ``If-None-Match`` (else ``If-Modified-Since``) says the
    client's copy is the current one: the answer is then 304."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = headers.get("if-modified-since")
    if since:
        try:
            return int(mtime) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
    return False


def _if_range_ok(headers: Headers, etag: str, last_modified: str) -> bool:
    value = headers.get("if-range")
    return value is None or value.strip() in (etag, last_modified)
