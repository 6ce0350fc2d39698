"""qakeapi (``QakeAPI()``, default settings) for S11.

Upload: a typed ``Annotated[UploadFile, File()]`` parameter (qakeapi parses the
multipart body as it streams into a spooled temporary file: in memory up to 1 MiB, on
disk above), then copied to its destination with ``await file.read(...)`` in 1 MiB
chunks. The default limits (16 MiB per file) allow the 10 MiB upload. Download:
``FileResponse(path)``.
"""

# ruff: noqa: ASYNC230
# (Blocking open/write/stat on purpose: every S11 app writes the upload to its
# destination the same way, plain writes to the page cache, so that only the
# framework's own parsing and spooling differ.)

from __future__ import annotations

from typing import Annotated

from qakeapi import File, FileResponse, PlainTextResponse, QakeAPI, UploadFile
from transfer_apps.common import COPY_CHUNK, PONG, download_path, upload_path

app = QakeAPI()


@app.get("/ping")
async def ping() -> PlainTextResponse:
    return PlainTextResponse(PONG)


@app.post("/upload")
async def upload(file: Annotated[UploadFile, File()]) -> dict[str, int]:
    size = 0
    with open(upload_path("qakeapi"), "wb") as out:
        while chunk := await file.read(COPY_CHUNK):
            size += out.write(chunk)
    return {"size": size}


@app.get("/download")
async def download() -> FileResponse:
    return FileResponse(download_path(), media_type="application/octet-stream")
