"""``request.multipart()`` on a real uvicorn, driven by httpx: a 6 MiB upload streamed
to disk as it arrives (many chunks, not one spooled file), served back byte for byte by
``FileResponse``; an oversized file is a 413 problem, and the server goes on serving."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from qake_server import Server, qake_run

pytestmark = pytest.mark.e2e

APP = "multipart_stream_app:app"


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("uploads")


@pytest.fixture(scope="module")
def server(uploads: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("multipart") / "server.log"
    prelude = (
        f"import os, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        f"os.environ['QAKE_E2E_UPLOADS'] = {str(uploads)!r}"
    )
    with qake_run(APP, log=log, ready="/ping", prelude=prelude) as running:
        yield running


def test_an_upload_streams_to_disk_and_downloads_back(server: Server, uploads: Path) -> None:
    payload = os.urandom(6 * 1024 * 1024 + 17)
    r = httpx.post(
        server.base + "/upload",
        data={"title": "été"},
        files={"file": ("../big.bin", payload, "application/octet-stream")},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["fields"] == {"title": "été"}
    stored = answer["file"]
    assert stored["name"] == "big.bin"  # the safe base name: never outside UPLOADS
    assert stored["size"] == len(payload)
    assert stored["sha256"] == hashlib.sha256(payload).hexdigest()
    assert stored["chunks"] > 1  # written as it arrived
    assert (uploads / "big.bin").read_bytes() == payload
    with httpx.stream("GET", server.base + "/files/big.bin", timeout=30) as download:
        assert download.status_code == 200
        assert int(download.headers["content-length"]) == len(payload)
        assert b"".join(download.iter_bytes()) == payload
    ranged = httpx.get(server.base + "/files/big.bin", headers={"range": "bytes=1000-1999"})
    assert ranged.status_code == 206
    assert ranged.content == payload[1000:2000]


def test_an_oversized_file_is_413_and_the_server_goes_on(server: Server) -> None:
    r = httpx.post(
        server.base + "/upload",
        files={"file": ("huge.bin", os.urandom(9 * 1024 * 1024))},
        timeout=30,
    )
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert "limit of 8388608 bytes" in r.json()["detail"]
    malformed = httpx.post(
        server.base + "/upload",
        content=b"--b\r\nnot a part",
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert malformed.status_code == 400
    assert malformed.headers["content-type"] == "application/problem+json"
    assert httpx.get(server.base + "/ping").json() == {"ok": True}
