"""Litestar for S11, as its docs show ("Request data: file uploads").

Upload: ``data: Annotated[UploadFile, Body(media_type=RequestEncodingType.MULTI_PART)]``
(Litestar's own streaming multipart parser; the file spooled as a 1 MiB
``SpooledTemporaryFile``), copied with ``await data.read(...)`` in 1 MiB chunks.
Litestar refuses bodies over ``request_max_body_size`` (10,000,000 bytes by default,
less than the 10 MiB upload): the app raises it to 64 MiB as its docs say to. Download:
``File(path)`` (Litestar reads in 1 MiB chunks).
"""

# ruff: noqa: ASYNC230
# (Blocking open/write/stat on purpose: every S11 app writes the upload to its
# destination the same way, plain writes to the page cache, so that only the
# framework's own parsing and spooling differ.)

from __future__ import annotations

from typing import Annotated

from litestar import Litestar, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import File

from transfer_apps.common import COPY_CHUNK, MAX_BODY, PONG, download_path, upload_path


@get("/ping", media_type="text/plain", sync_to_thread=False)
def ping() -> bytes:
    return PONG


@post("/upload", status_code=200)
async def upload(
    data: Annotated[UploadFile, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> dict[str, int]:
    size = 0
    with open(upload_path("litestar"), "wb") as out:
        while chunk := await data.read(COPY_CHUNK):
            size += out.write(chunk)
    return {"size": size}


@get("/download", sync_to_thread=False)
def download() -> File:
    return File(download_path(), media_type="application/octet-stream")


app = Litestar([ping, upload, download], request_max_body_size=MAX_BODY)
