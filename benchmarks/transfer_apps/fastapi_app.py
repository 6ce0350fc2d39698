"""FastAPI for S11, the tutorial style ("Request Files").

Upload: ``file: UploadFile`` (Starlette's form parsing underneath: a spooled temporary
file of 1 MiB), copied with ``await file.read(...)`` in 1 MiB chunks. Download:
``FileResponse(path)`` (Starlette's).
"""

# ruff: noqa: ASYNC230
# (Blocking open/write/stat on purpose: every S11 app writes the upload to its
# destination the same way, plain writes to the page cache, so that only the
# framework's own parsing and spooling differ.)

from __future__ import annotations

from fastapi import FastAPI, UploadFile
from fastapi.responses import FileResponse, PlainTextResponse

from transfer_apps.common import COPY_CHUNK, PONG, download_path, upload_path

app = FastAPI()


@app.get("/ping", response_class=PlainTextResponse)
async def ping() -> PlainTextResponse:
    return PlainTextResponse(PONG)


@app.post("/upload")
async def upload(file: UploadFile) -> dict[str, int]:
    size = 0
    with open(upload_path("fastapi"), "wb") as out:
        while chunk := await file.read(COPY_CHUNK):
            size += out.write(chunk)
    return {"size": size}


@app.get("/download")
async def download() -> FileResponse:
    return FileResponse(download_path(), media_type="application/octet-stream")
