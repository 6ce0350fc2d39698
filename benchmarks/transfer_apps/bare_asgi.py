"""The floor: a hand-written ASGI app for S11.

Upload: python-multipart's sans-I/O ``MultipartParser`` fed with each ``http.request``
chunk; the part named ``file`` goes straight to its destination file (plain blocking
writes to the page cache, no temporary spool, no thread). Download: the file read in
64 KiB chunks with plain blocking reads in the event loop (no anyio, no aiofiles, no
thread), each sent as one ``http.response.body`` message; the server's flow control
(``send`` waits while its buffer is full) keeps the loop free between chunks.
"""

# ruff: noqa: ASYNC230
# (Blocking open/write/stat on purpose: every S11 app writes the upload to its
# destination the same way, plain writes to the page cache, so that only the
# framework's own parsing and spooling differ.)

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import IO, Any

import orjson
from python_multipart.multipart import MultipartParser, parse_options_header

from transfer_apps.common import PONG, download_path, upload_path

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

READ_CHUNK = 64 * 1024


async def answer(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class UploadTarget:
    """python-multipart's callbacks: the ``file`` part's data to the destination file."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.size = 0
        self.field = b""
        self.value = b""
        self.writing = False
        self.ended = False

    def on_part_begin(self) -> None:
        self.writing = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]

    def on_header_end(self) -> None:
        if self.field.lower() == b"content-disposition":
            _, params = parse_options_header(self.value)
            self.writing = params.get(b"name") == b"file" and b"filename" in params
        self.field = self.value = b""

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.writing:
            self.size += self.out.write(data[start:end])

    def on_end(self) -> None:
        self.ended = True


async def upload(scope: Scope, receive: Receive, send: Send) -> None:
    content_type = b""
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value
    media, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if media != b"multipart/form-data" or not boundary:
        await answer(send, 415, b"text/plain", b"multipart/form-data expected")
        return
    with open(upload_path("bare"), "wb") as out:
        target = UploadTarget(out)
        callbacks: Any = {
            name: getattr(target, name)
            for name in (
                "on_part_begin",
                "on_header_field",
                "on_header_value",
                "on_header_end",
                "on_part_data",
                "on_end",
            )
        }
        parser = MultipartParser(boundary, callbacks)
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            parser.write(message.get("body", b""))
            more = message.get("more_body", False)
        parser.finalize()
    if not target.ended:
        await answer(send, 400, b"text/plain", b"truncated multipart body")
        return
    await answer(send, 200, b"application/json", orjson.dumps({"size": target.size}))


async def download(send: Send) -> None:
    with open(download_path(), "rb") as f:
        size = os.fstat(f.fileno()).st_size
        headers = [
            (b"content-type", b"application/octet-stream"),
            (b"content-length", str(size).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        while chunk := f.read(READ_CHUNK):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path, method = scope["path"], scope["method"]
    if path == "/ping" and method == "GET":
        await answer(send, 200, b"text/plain; charset=utf-8", PONG)
    elif path == "/upload" and method == "POST":
        await upload(scope, receive, send)
    elif path == "/download" and method == "GET":
        await download(send)
    else:
        await answer(send, 404, b"text/plain", b"Not Found")
