"""Falcon (ASGI) for S11, as its docs show.

Upload: ``form = await req.get_media()`` (Falcon's own streaming multipart parser: no
spool), ``async for part in form``, the ``file`` part's ``async for chunk in
part.stream`` written to the destination. Download: Falcon's docs stream a file with
``resp.stream = await aiofiles.open(path, "rb")``; aiofiles is not in the benchmark
environment, so ``resp.stream`` is an async generator doing what aiofiles does (each
64 KiB read in the loop's default thread pool), with ``resp.content_length`` set.
"""

# ruff: noqa: ASYNC230, ASYNC240
# (Blocking open/write/stat on purpose: every S11 app writes the upload to its
# destination the same way, plain writes to the page cache, so that only the
# framework's own parsing and spooling differ.)

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import falcon
import falcon.asgi

from transfer_apps.common import PONG, download_path, upload_path

READ_CHUNK = 64 * 1024


class Ping:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.data = PONG


class Upload:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        size = 0
        form = await req.get_media()
        async for part in form:
            if part.name == "file" and part.filename:
                with open(upload_path("falcon"), "wb") as out:
                    async for chunk in part.stream:
                        size += out.write(chunk)
        resp.media = {"size": size}


async def file_chunks(path: str) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    f = await loop.run_in_executor(None, open, path, "rb")
    try:
        while chunk := await loop.run_in_executor(None, f.read, READ_CHUNK):
            yield chunk
    finally:
        await loop.run_in_executor(None, f.close)


class Download:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        path = str(download_path())
        resp.content_type = "application/octet-stream"
        resp.content_length = os.path.getsize(path)
        resp.stream = file_chunks(path)


app = falcon.asgi.App()
app.add_route("/ping", Ping())
app.add_route("/upload", Upload())
app.add_route("/download", Download())
