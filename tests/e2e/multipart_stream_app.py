"""The app of tests/e2e/test_multipart_stream_e2e.py: uploads streamed to disk with
``request.multipart()``, served back with ``FileResponse``."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from qakeapi import FileResponse, HTTPException, Limits, QakeAPI, Request

#: Where uploads go: set by the test (through the server's environment).
UPLOADS = Path(os.environ.get("QAKE_E2E_UPLOADS", "/nonexistent"))

app = QakeAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/ping")
async def ping() -> dict[str, bool]:
    return {"ok": True}


@app.post("/upload", limits=Limits(max_file_size=8 * 1024 * 1024))
async def upload(request: Request) -> dict[str, object]:
    fields: dict[str, str] = {}
    stored: dict[str, object] = {}
    async for part in request.multipart():
        if part.filename is None:
            fields[part.name] = await part.text()
            continue
        digest = hashlib.sha256()
        chunks = 0
        with open(UPLOADS / part.filename, "wb") as out:
            async for chunk in part:
                out.write(chunk)
                digest.update(chunk)
                chunks += 1
        stored = {"name": part.filename, "size": part.size, "sha256": digest.hexdigest()}
        stored["chunks"] = chunks
    if not stored:
        raise HTTPException(400, "No file in the form.")
    return {"fields": fields, "file": stored}


@app.get("/files/{name}")
async def download(name: str) -> FileResponse:
    return FileResponse(UPLOADS / Path(name).name)
