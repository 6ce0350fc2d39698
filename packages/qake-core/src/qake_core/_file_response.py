"""``FileResponse``: a file sent in chunks, with validators, conditional GET and ranges."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
from collections.abc import Mapping
from email.utils import formatdate, parsedate_to_datetime
from mimetypes import guess_type

import anyio
import anyio.lowlevel

from qake_core._background import BackgroundTasks
from qake_core._datastructures import Headers
from qake_core._default_headers import CONTENT_TYPE, DEFAULT_HEADERS_KEY
from qake_core._messages import content_type, not_modified_headers, response_messages
from qake_core._problem import problem_response
from qake_core._request_head import digits
from qake_core._responses import Response
from qake_core.types import Receive, Scope, Send

__all__ = ["FileResponse"]

#: Bytes read and sent per body message (see _Reader for where a read runs).
#: PERF: 256 KiB, not 64: each chunk read in a worker thread is one thread hand-off; a
#: 10 MiB download's in-process CPU 11.1-12.3 -> 4.5 ms (1 MiB: 2.9 ms, the bare app 2.3;
#: benchmarks/transfers.py, S11). 256 KiB of buffer per download in flight;
#: FileResponse's ``chunk_size`` changes it per response.
CHUNK_SIZE = 256 * 1024
#: Bytes a response reads in the event loop (see _Reader) and sends before it gives the
#: loop's other tasks a turn: a client that never makes ``send`` wait would otherwise
#: hold the loop for the whole file. S11 under uvicorn (benchmarks/transfers.py, one run
#: each, 10 MiB from tmpfs): the probe's GET /ping during downloads p50 / p99 1.3 / 3.6
#: -> 0.4 / 0.6 ms; in-process CPU per download 1.45 -> 1.38 ms (noise: ten turns).
IN_LOOP_BYTES = 1024 * 1024
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
    """Send the file at ``path``, read in chunks (never whole in memory; see _Reader).

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
        # PERF: stat and open in one worker-thread hop (were three: stat, open, seek; and
        # a fourth to close): each hop costs ~40-60 us of CPU (two context switches).
        opened = await anyio.to_thread.run_sync(_open_regular, self.path)
        if opened is None:
            await problem_response(404, "File not found.")(scope, receive, send)
            return
        fd, st, memory = opened
        try:
            sent = await self._respond(
                _Reader(fd, memory), self.stat_result or st, scope, receive, send
            )
        finally:
            os.close(fd)  # a read-only descriptor: closing it never waits on the disk
        if sent and self.background is not None:
            await self.background()

    async def _respond(
        self, read: _Reader, st: os.stat_result, scope: Scope, receive: Receive, send: Send
    ) -> bool:
        """Answer from the open file ``read``; whether the answer was the file (200, 206 or
        HEAD's headers; not 304 or 416: the background task runs only after the file)."""
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
            return False
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
                return False
        status, parts, tail = _body_of(headers, self.status_code, ranges, size)
        start, body = response_messages(status, headers, None, method, defaults)
        await send(start)
        if body is not None:  # HEAD: the headers only
            await send(body)
        else:
            await self._send_parts(read, parts, tail, send)
        return True

    async def _send_parts(
        self, read: _Reader, parts: list[tuple[int, int, bytes]], tail: bytes, send: Send
    ) -> None:
        """Send each ``(start, end, preamble)`` part of the file, then ``tail``."""
        chunk_size = self.chunk_size
        in_loop = 0  # bytes read in the loop since the loop's other tasks had a turn
        for i, (start, end, preamble) in enumerate(parts):
            if preamble:
                prefix = (b"\r\n" if i else b"") + preamble
                await send({"type": "http.response.body", "body": prefix, "more_body": True})
            offset = start
            while offset <= end:
                data = read.cached(min(chunk_size, end + 1 - offset), offset)
                if data is None:
                    data = await read.in_thread(min(chunk_size, end + 1 - offset), offset)
                    in_loop = 0  # the thread hop gave the loop its turn
                elif in_loop >= IN_LOOP_BYTES:
                    # NOTE: uvicorn's send() waits only when the socket's buffer is
                    # full: a fast client on a fast link never makes it wait.
                    await read.give_turn()
                    in_loop = len(data)
                else:
                    in_loop += len(data)
                if not data:
                    break  # the file shrank since its stat: the client sees a short body
                offset += len(data)
                await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": tail})


def _open_regular(path: str) -> tuple[int, os.stat_result, bool] | None:
    """``path`` opened for reading, its stat and whether its file system keeps it in
    memory; ``None`` when it is not a regular file (missing, a directory, a FIFO...).
    Runs in a worker thread."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None  # never opened: opening a FIFO would wait for a writer
        # NOTE: O_NONBLOCK: should the path become a FIFO before the open, it does not wait.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except (FileNotFoundError, NotADirectoryError):
        return None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return None
    return fd, st, in_memory(st.st_dev)


#: File systems whose files are memory: a read never waits for a disk (unless the
#: machine swaps the pages out).
_MEMORY_FS = frozenset({"tmpfs", "ramfs"})
#: ``st_dev`` -> whether that file system is one of _MEMORY_FS (a few entries: one per
#: mounted file system a FileResponse read from).
_IN_MEMORY: dict[int, bool] = {}


def in_memory(device: int) -> bool:
    """Whether the file system of ``device`` (an ``st_dev``) keeps its files in memory
    (Linux's ``/proc/self/mountinfo``; ``False`` elsewhere, or when it cannot say)."""
    known = _IN_MEMORY.get(device)
    if known is None:
        known = _IN_MEMORY[device] = _fs_type(device) in _MEMORY_FS
    return known


def _fs_type(device: int) -> str | None:
    wanted = f"{os.major(device)}:{os.minor(device)}" if hasattr(os, "major") else None
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                # "36 35 98:0 /root /mnt rw,noatime master:1 - ext4 /dev/root rw"
                mount, sep, fs = line.partition(" - ")
                fields = mount.split()
                if sep and len(fields) > 2 and fields[2] == wanted:
                    return fs.split(maxsplit=1)[0] if fs.strip() else None
    except OSError:
        pass
    return None


def _seek_read(fd: int, size: int, offset: int) -> bytes:
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


#: ``os.pread`` (a read at an offset), or a seek and a read where it is missing
#: (Windows): a response's reads of its own descriptor never overlap.
_pread = getattr(os, "pread", _seek_read)

#: preadv2's flag "return only what the page cache holds, never wait for the disk"
#: (Linux 4.14+); 0 elsewhere.
_NOWAIT: int = getattr(os, "RWF_NOWAIT", 0)


class _Reader:
    """The reads of one open file: in the event loop when they cannot wait for a disk (a
    tmpfs or ramfs file; a page-cache hit that ``preadv2(RWF_NOWAIT)`` returns at
    once), else in a worker thread.

    PERF: a 256 KiB read from memory costs ~25 us of CPU; a worker-thread hop ~40-60 us
    more (two context switches). A 10 MiB download, in-process CPU (S11, one run, the
    machine loaded): from tmpfs 4.4-4.6 -> 2.4-2.6 ms (the bare app, reading in the
    loop, 2.3; Litestar 3.9-4.2); from ext4's page cache through RWF_NOWAIT 2.0 ms (in
    worker threads 2.8-3.5).
    """

    __slots__ = ("fd", "loop", "memory", "nowait")

    def __init__(self, fd: int, memory: bool) -> None:
        self.fd = fd
        self.memory = memory
        self.nowait = bool(_NOWAIT)
        try:
            self.loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # trio
            self.loop = None

    async def in_thread(self, size: int, offset: int) -> bytes:
        """Up to ``size`` bytes at ``offset``, read in a worker thread.

        PERF: on asyncio, the loop's executor directly: ~40 us of CPU per hop against
        ~60 through anyio.to_thread (its cancel scope and capacity limiter); a 10 MiB
        download, 40 hops (ext4, RWF_NOWAIT off), in-process CPU 3.07-3.53 -> 2.80-2.96
        ms. Trio: anyio."""
        if self.loop is not None:
            return await self.loop.run_in_executor(None, _pread, self.fd, size, offset)
        return await anyio.to_thread.run_sync(_pread, self.fd, size, offset)

    async def give_turn(self) -> None:
        """Let the event loop run its other tasks once."""
        if self.loop is not None:
            await asyncio.sleep(0)
        else:
            await anyio.lowlevel.checkpoint()

    def cached(self, size: int, offset: int) -> bytes | None:
        """Up to ``size`` bytes at ``offset`` if the page cache has them at once, else
        ``None`` (read in a worker thread then)."""
        if self.memory:
            # NOTE: a tmpfs file is memory: reading it is a copy, shorter than a thread
            # hop (and tmpfs answers RWF_NOWAIT with EOPNOTSUPP).
            return _pread(self.fd, size, offset)
        if not self.nowait:
            return None
        buffer = bytearray(size)
        try:
            n = os.preadv(self.fd, [buffer], offset, _NOWAIT)
        except BlockingIOError:
            return None  # not cached (or only partly): the disk would be waited for
        except OSError:
            self.nowait = False  # EOPNOTSUPP: the file system cannot tell
            return None
        if n == 0 and size:
            return None  # the end of the file, or nothing cached: the thread knows
        return bytes(memoryview(buffer)[:n]) if n < size else bytes(buffer)


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
