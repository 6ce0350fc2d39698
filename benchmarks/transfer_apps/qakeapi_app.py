"""qakeapi (``QakeAPI()``, default settings) for S11.

Upload: ``request.multipart()``, the streaming reader the docs teach for large files:
each part as it arrives, the ``file`` part's chunks written straight to their
destination (no temporary spool, no thread). The default limits (16 MiB per file) allow
the 10 MiB upload. Download: ``FileResponse(path)``.
"""

# ruff: noqa: ASYNC230
# (Blocking open/write/stat on purpose: every S11 app writes the upload to its
# destination the same way, plain writes to the page cache, so that only the
# framework's own parsing and spooling differ.)

from __future__ import annotations

from qakeapi import FileResponse, HTTPException, PlainTextResponse, QakeAPI, Request
from transfer_apps.common import PONG, download_path, upload_path

app = QakeAPI()


@app.get("/ping")
async def ping() -> PlainTextResponse:
    return PlainTextResponse(PONG)


@app.post("/upload")
async def upload(request: Request) -> dict[str, int]:
    async for part in request.multipart():
        if part.name == "file" and part.filename is not None:
            with open(upload_path("qakeapi"), "wb") as out:
                async for chunk in part:
                    out.write(chunk)
            return {"size": part.size}
    raise HTTPException(400, "No file part named 'file'.")


@app.get("/download")
async def download() -> FileResponse:
    return FileResponse(download_path(), media_type="application/octet-stream")
