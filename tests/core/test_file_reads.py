"""FileResponse's reads: the same bytes whichever way a read runs (in the event loop from
a memory file system or the page cache, or in a worker thread), whole or in ranges, in
chunks of ``chunk_size``; a FIFO is never opened."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from qake_core import App, FileResponse
from qake_core import _file_response as file_response
from qake_testing import TestClient

DATA = os.urandom(3 * 256 * 1024 + 1234)  # three whole chunks and a short one
SHM = Path("/dev/shm")


@pytest.fixture(params=["disk", "memory", "thread"])
def source(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """The file to serve: on the test's disk (page cache: RWF_NOWAIT where the system
    has it), on tmpfs (read in the loop), or on disk with both refused (worker thread)."""
    if request.param == "memory":
        if not SHM.is_dir():
            pytest.skip("no /dev/shm here")
        path = SHM / f"qake-test-{os.getpid()}-{id(request)}.bin"
        path.write_bytes(DATA)
        assert file_response.in_memory(path.stat().st_dev)
        yield path
        path.unlink()
        return
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    if request.param == "thread":
        monkeypatch.setattr(file_response, "_NOWAIT", 0)
        monkeypatch.setattr(file_response, "in_memory", lambda device: False)
    yield path


def make_client(path: Path) -> TestClient:
    app = App()

    @app.get("/file")
    async def download() -> FileResponse:
        return FileResponse(path)

    @app.get("/small-chunks")
    async def small_chunks() -> FileResponse:
        response = FileResponse(path)
        response.chunk_size = 1000
        return response

    return TestClient(app)


def test_whole_file(source: Path) -> None:
    with make_client(source) as client:
        r = client.get("/file")
        assert r.status_code == 200
        assert r.content == DATA
        assert r.headers["content-length"] == str(len(DATA))
        assert client.get("/small-chunks").content == DATA


def test_ranges(source: Path) -> None:
    with make_client(source) as client:
        r = client.get("/file", headers={"range": "bytes=262140-524300"})
        assert r.status_code == 206
        assert r.content == DATA[262140:524301]
        r = client.get("/small-chunks", headers={"range": "bytes=10-20, 300000-300999, -5"})
        assert r.status_code == 206
        boundary = re.search(r"boundary=(\w+)", r.headers["content-type"])
        assert boundary is not None
        bodies = [
            p.split(b"\r\n\r\n", 1)[1] for p in r.content.split(b"--" + boundary[1].encode())[1:-1]
        ]
        assert [b.removesuffix(b"\r\n") for b in bodies] == [
            DATA[10:21],
            DATA[300000:301000],
            DATA[-5:],
        ]


def test_a_fifo_is_404_and_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    os.mkfifo(fifo)
    with make_client(fifo) as client:  # opening it would wait for a writer forever
        r = client.get("/file")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


def test_a_missing_file_is_404(tmp_path: Path) -> None:
    with make_client(tmp_path / "missing.bin") as client:
        r = client.get("/file")
    assert r.status_code == 404
    assert r.json()["detail"] == "File not found."


@pytest.fixture
def anyio_backend(every_backend: str) -> str:
    return every_backend


@pytest.mark.parametrize("where", ["disk", "memory"])
@pytest.mark.anyio
async def test_reads_in_the_loop_leave_it_a_turn_every_mib(
    anyio_backend: str, where: str, tmp_path: Path
) -> None:
    """A file read in the event loop (tmpfs, or the page cache) to a client that never
    makes ``send`` wait must not hold the loop for the whole file: other tasks get a
    turn at least once per ``IN_LOOP_BYTES`` sent."""
    if where == "memory":
        if not SHM.is_dir():
            pytest.skip("no /dev/shm here")
        path = SHM / f"qake-test-turns-{os.getpid()}-{anyio_backend}.bin"
    else:
        path = tmp_path / "big.bin"
    size = 6 * file_response.IN_LOOP_BYTES + 1000
    path.write_bytes(os.urandom(size))
    path.read_bytes()  # in the page cache: the disk file is read in the loop too
    turns = 0
    turns_at_sends: list[int] = []
    done = False

    async def other_task() -> None:
        nonlocal turns
        while not done:
            turns += 1
            await anyio.lowlevel.checkpoint()

    async def receive() -> dict[str, object]:
        await anyio.sleep_forever()
        raise AssertionError  # pragma: no cover

    async def send(message: dict[str, object]) -> None:  # never waits, like a fast client
        if message["type"] == "http.response.body":
            turns_at_sends.append(turns)

    scope = {"type": "http", "method": "GET", "headers": [], "path": "/"}
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(other_task)
            await anyio.lowlevel.checkpoint()
            await FileResponse(path)(scope, receive, send)  # type: ignore[arg-type]
            done = True
    finally:
        path.unlink()
    chunks_per_turn = file_response.IN_LOOP_BYTES // file_response.CHUNK_SIZE
    # Between the first body message and the last the other task ran at least once
    # per IN_LOOP_BYTES; no more than two turns' worth of chunks went out in a row
    # without it running (trio orders the tasks of one scheduling batch at random, so
    # the response may run last in one batch and first in the next).
    assert turns_at_sends[-1] - turns_at_sends[0] >= size // file_response.IN_LOOP_BYTES - 1
    stretch = longest = 0
    for before, after in itertools.pairwise(turns_at_sends):
        stretch = stretch + 1 if after == before else 0
        longest = max(longest, stretch)
    assert longest < 2 * chunks_per_turn
