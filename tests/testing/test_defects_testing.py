"""Regression tests for issue 12's qake-testing items: 17 (the last streamed chunk) and
20 (the scanner's report is a sequence of findings)."""

from __future__ import annotations

import contextlib
import gzip
import io
import re
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest
from testing_scanner_apps import clean_app, vulnerable_app

from qake_core import App, GZipMiddleware, Middleware, StreamingResponse
from qake_testing import AsyncTestClient, Finding, FindingKind, ScanReport, TestClient, ascan, scan

# Every encoding qake-core's GZipMiddleware can produce; br and zstd only when their
# optional modules are installed (qake-core's `compression` extra).
ENCODINGS = ["gzip", "br", "zstd"]
PIECES = [b"piece %d;" % i * 40 for i in range(6)]
EXPECTED = b"".join(PIECES)


def strict_decode(coding: str, raw: bytes) -> bytes:
    """Decompress ``raw``, failing unless the stream is complete (httpx's decoders are lenient)."""
    if coding == "gzip":
        return gzip.decompress(raw)  # EOFError without the gzip trailer
    if coding == "br":
        brotli: Any = pytest.importorskip("brotli")
        decoder = brotli.Decompressor()
        out: bytes = decoder.process(raw)
        assert decoder.is_finished(), "the brotli stream is incomplete"
        return out
    zstandard: Any = pytest.importorskip("zstandard")
    zdecoder = zstandard.ZstdDecompressor().decompressobj()
    zout: bytes = zdecoder.decompress(raw)
    assert zdecoder.eof, "the zstd frame is incomplete"
    return zout


def need(coding: str) -> None:
    module = {"br": "brotli", "zstd": "zstandard"}.get(coding)
    if module is not None:
        pytest.importorskip(module)


def compressed_stream_app() -> App:
    app = App(middleware=[Middleware(GZipMiddleware, minimum_size=10)])

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def pieces() -> AsyncIterator[bytes]:
            for piece in PIECES:
                yield piece

        # The middleware turns the stream's closing empty message into the compressor's
        # trailer: the last chunk the client must receive is not empty.
        return StreamingResponse(pieces(), media_type="text/plain")

    return app


async def final_chunk_app(scope: dict[str, Any], receive: Callable[..., Any], send: Any) -> None:
    """A raw ASGI app that watches for a disconnect while it sends a non-empty last chunk."""
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    async with anyio.create_task_group() as task_group:

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            task_group.cancel_scope.cancel()

        task_group.start_soon(watch)
        await send({"type": "http.response.body", "body": b"first,", "more_body": True})
        await send({"type": "http.response.body", "body": b"last"})


# -- item 17: the sync TestClient ------------------------------------------------------


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("coding", ENCODINGS)
def test_sync_client_keeps_the_last_chunk_of_a_compressed_stream(backend: str, coding: str) -> None:
    need(coding)
    with TestClient(compressed_stream_app(), backend=backend) as client:  # type: ignore[arg-type]
        with client.stream("GET", "/stream", headers={"accept-encoding": coding}) as response:
            raw = b"".join(response.iter_raw())
        assert response.headers["content-encoding"] == coding
        assert strict_decode(coding, raw) == EXPECTED
        # httpx's own decoding, through the public response API.
        decoded = client.get("/stream", headers={"accept-encoding": coding})
        assert decoded.content == EXPECTED


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_sync_client_keeps_a_non_empty_last_chunk(backend: str) -> None:
    with TestClient(final_chunk_app, backend=backend) as client:  # type: ignore[arg-type]
        assert client.get("/").content == b"first,last"
    # Without `with`: a short-lived portal per request.
    assert TestClient(final_chunk_app, backend=backend).get("/").content == b"first,last"  # type: ignore[arg-type]


# -- item 17: the AsyncTestClient -------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("coding", ENCODINGS)
async def test_async_client_keeps_the_last_chunk_of_a_compressed_stream(coding: str) -> None:
    need(coding)
    app = compressed_stream_app()
    async with AsyncTestClient(app) as client:
        async with client.stream("GET", "/stream", headers={"accept-encoding": coding}) as response:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
        assert response.headers["content-encoding"] == coding
        assert strict_decode(coding, raw) == EXPECTED
        decoded = await client.get("/stream", headers={"accept-encoding": coding})
        assert decoded.content == EXPECTED
    # Without `async with`: the response is read whole before it is returned.
    client = AsyncTestClient(app)
    try:
        async with client.stream("GET", "/stream", headers={"accept-encoding": coding}) as response:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
    finally:
        await client.aclose()
    assert strict_decode(coding, raw) == EXPECTED


@pytest.mark.anyio
async def test_async_client_keeps_a_non_empty_last_chunk() -> None:
    async with AsyncTestClient(final_chunk_app) as client:  # type: ignore[arg-type]
        assert (await client.get("/")).content == b"first,last"
    client = AsyncTestClient(final_chunk_app)  # type: ignore[arg-type]
    try:
        assert (await client.get("/")).content == b"first,last"
    finally:
        await client.aclose()


def test_the_encodings_are_the_middlewares() -> None:
    # ENCODINGS covers every coding GZipMiddleware can pick.
    middleware = GZipMiddleware(final_chunk_app)  # type: ignore[arg-type]
    assert sorted(middleware.enabled) == sorted(ENCODINGS)


# -- item 20: the scanner's report is a sequence of typed findings ----------------------

README = Path(__file__).parents[2] / "packages" / "qake-testing" / "README.md"


@pytest.fixture(scope="module")
def report() -> ScanReport:
    return scan(vulnerable_app, max_payloads=2)


def test_report_is_a_sequence_of_typed_findings(report: ScanReport) -> None:
    assert isinstance(report, Sequence)
    findings = list(report)
    assert findings == report.findings
    assert len(findings) > 5
    assert all(isinstance(finding, Finding) for finding in findings)
    assert all(isinstance(finding.kind, FindingKind) for finding in report)
    assert len(report) == len(findings)
    assert report[0] == findings[0]
    assert report[-1] == findings[-1]
    assert report[1:3] == findings[1:3]
    assert report[::-1] == findings[::-1]
    assert findings[2] in report
    assert report.index(findings[2]) == 2
    assert list(reversed(report)) == findings[::-1]
    with pytest.raises(IndexError):
        report[len(findings)]
    assert report  # something was found, as for a non-empty list
    assert not report.ok
    kinds = {finding.kind for finding in report}
    assert kinds == set(FindingKind)


def test_report_renders_a_readable_summary(report: ScanReport) -> None:
    text = str(report)
    assert text == report.summary()
    head, *lines = text.splitlines()
    assert head.startswith(f"Security scan: 3 operations, {report.requests} requests, ")
    assert f"{len(report)} findings (" in head
    assert lines == [f"  - {finding}" for finding in report]
    first = report[0]
    assert f"{first.kind}: {first.method} {first.path}" in lines[0]


def test_an_empty_report() -> None:
    report = scan(clean_app, [("GET", "/search", [("q", "query")])], max_payloads=1)
    assert len(report) == 0
    assert list(report) == []
    assert report[:] == []
    assert not report
    assert report.ok
    assert str(report).endswith("0 findings.")
    with pytest.raises(IndexError):
        report[0]


@pytest.mark.anyio
async def test_ascan_returns_the_same_sequence() -> None:
    report = await ascan(vulnerable_app, [("GET", "/search", [("q", "query")])], max_payloads=1)
    assert isinstance(report, Sequence)
    assert len(report) == len(report.findings) > 0
    assert {finding.path for finding in report} == {"/search"}


def test_the_readme_scanner_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text("utf-8"), re.DOTALL)
    (example,) = [block for block in blocks if "report = scan(app)" in block]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(example, {"scan": scan, "app": vulnerable_app})
    printed = out.getvalue().splitlines()
    assert printed[0] == "insecure_cors GET /search header:Origin 200"
    (count_line,) = [line for line in printed if " findings; first: " in line]
    assert " findings; first: insecure_cors: GET /search [header:Origin] -> 200: " in count_line
    assert any(line.startswith("Security scan: 3 operations") for line in printed)
