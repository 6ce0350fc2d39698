"""Starlette for S11, as its docs show.

Upload: ``form = await request.form()`` (python-multipart; each file a Starlette
``UploadFile`` over a ``SpooledTemporaryFile`` of 1 MiB), the part copied with
``await upload.read(...)`` in 1 MiB chunks, then ``await form.close()``. Download:
``FileResponse(path)``.
"""

# ruff: noqa: ASYNC230
# (Blocking open/write/stat on purpose: every S11 app writes the upload to its
# destination the same way, plain writes to the page cache, so that only the
# framework's own parsing and spooling differ.)

from __future__ import annotations

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse
from starlette.routing import Route

from transfer_apps.common import COPY_CHUNK, PONG, download_path, upload_path


async def ping(request: Request) -> PlainTextResponse:
    return PlainTextResponse(PONG)


async def upload(request: Request) -> JSONResponse:
    size = 0
    async with request.form() as form:
        part = form["file"]
        if not isinstance(part, UploadFile):
            return JSONResponse({"detail": "file expected"}, status_code=400)
        with open(upload_path("starlette"), "wb") as out:
            while chunk := await part.read(COPY_CHUNK):
                size += out.write(chunk)
    return JSONResponse({"size": size})


async def download(request: Request) -> FileResponse:
    return FileResponse(download_path(), media_type="application/octet-stream")


app = Starlette(
    routes=[
        Route("/ping", ping),
        Route("/upload", upload, methods=["POST"]),
        Route("/download", download),
    ]
)
