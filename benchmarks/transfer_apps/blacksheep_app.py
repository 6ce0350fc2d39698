"""BlackSheep for S11, as its docs show.

Upload: ``async for part in request.multipart_stream()`` (BlackSheep's streaming
parser: no spool), the ``file`` part's ``part.stream()`` chunks written to the
destination. This is what ``StreamedFormPart.save_to(path)`` does, which the app cannot
call: it refuses a path outside the working directory. Download: BlackSheep's
``file(path, ...)`` helper reads the file in 64 KiB chunks (``FilesHandler``, a thread
per read) but answers with chunked transfer encoding, without Content-Length; the app
builds the same ``StreamedContent`` with the file's length (``data_length``), so the
answer carries its Content-Length like the other apps'.
"""

# ruff: noqa: ASYNC230, ASYNC240
# (Blocking open/write/stat on purpose: every S11 app writes the upload to its
# destination the same way, plain writes to the page cache, so that only the
# framework's own parsing and spooling differ.)

from __future__ import annotations

import os

from blacksheep import Application, Request, Response, json, text
from blacksheep.common.files.asyncfs import FilesHandler
from blacksheep.contents import StreamedContent

from transfer_apps.common import PONG, download_path, upload_path

app = Application()
get = app.router.get
post = app.router.post


@get("/ping")
async def ping() -> Response:
    return text(PONG.decode())


@post("/upload")
async def upload(request: Request) -> Response:
    size = 0
    async for part in request.multipart_stream():
        if part.name == "file" and part.file_name:
            with open(upload_path("blacksheep"), "wb") as out:
                async for chunk in part.stream():
                    size += out.write(chunk)
    return json({"size": size})


@get("/download")
async def download() -> Response:
    path = str(download_path())

    async def chunks():  # an async generator function, as StreamedContent wants
        async for chunk in FilesHandler().chunks(path):
            yield chunk

    content = StreamedContent(b"application/octet-stream", chunks, os.path.getsize(path))
    return Response(200, None, content)
