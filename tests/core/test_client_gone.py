"""A client that leaves while its response is sent: one INFO line, no traceback, no
ERROR — from qake's logger or, once the error is re-raised to close the connection,
from the server's (the record uvicorn would write is dropped by qake's filter)."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest
from core_asgi import Message, http_scope

from qake_core import App, PlainTextResponse, StreamingResponse
from qake_core._errors import silence_server_duplicates

pytestmark = pytest.mark.anyio

GONE = [ConnectionResetError(104, "Connection reset by peer"), anyio.BrokenResourceError()]


def gone_app() -> App:
    app = App()

    @app.get("/plain")
    async def plain() -> PlainTextResponse:
        return PlainTextResponse("x" * 100)

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> Any:
            yield b"a"
            yield b"b"

        return StreamingResponse(chunks())

    return app


@pytest.mark.parametrize("path", ["/plain", "/stream"])
@pytest.mark.parametrize("error", GONE, ids=lambda e: type(e).__name__)
async def test_a_client_gone_mid_send_is_one_info_line(
    path: str, error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    app = gone_app()
    sent: list[Message] = []

    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> Message:
        return requests.pop() if requests else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            raise error
        sent.append(message)

    silence_server_duplicates()
    caplog.set_level(logging.INFO)
    with pytest.raises(type(error)):
        await app(http_scope("GET", path), receive, send)
    # What uvicorn does with the re-raised error: its record is dropped.
    logging.getLogger("uvicorn.error").error("Exception in ASGI application", exc_info=error)
    records = [r for r in caplog.records if r.name in ("qake.error", "uvicorn.error")]
    assert [(r.levelno, r.exc_info) for r in records] == [(logging.INFO, None)], records
    assert "the client went away while the response to GET " + path in records[0].getMessage()
    assert [m["type"] for m in sent] == ["http.response.start"]


async def test_any_other_send_failure_is_still_an_error_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = gone_app()

    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> Message:
        return requests.pop() if requests else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        raise ValueError("a bad message")

    with pytest.raises(ValueError, match="a bad message"):
        await app(http_scope("GET", "/plain"), receive, send)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
