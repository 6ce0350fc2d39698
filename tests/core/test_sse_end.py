"""``end_event_streams()``: every event stream being sent ends as if its iterator had,
its response finished (``qake run`` calls it when the server starts its shutdown)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from qake_core import App, EventSourceResponse, ServerSentEvent, end_event_streams

pytestmark = pytest.mark.anyio


def make_app(produced: list[int], closed: list[bool]) -> App:
    app = App()

    @app.get("/events")
    async def events() -> EventSourceResponse:
        async def ticks() -> AsyncIterator[ServerSentEvent]:
            try:
                n = 0
                while True:
                    produced.append(n)
                    yield ServerSentEvent(data=n)
                    n += 1
                    await anyio.sleep(0.01)
            finally:
                closed.append(True)

        return EventSourceResponse(ticks(), ping_interval=60)

    return app


async def test_open_streams_end_with_a_finished_response() -> None:
    produced: list[int] = []
    closed: list[bool] = []
    app = make_app(produced, closed)
    sent: list[dict[str, Any]] = []
    first_events = anyio.Event()

    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()  # the client stays: no http.disconnect
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if len(sent) == 3:  # the start and two events
            first_events.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/events",
        "raw_path": b"/events",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    async with anyio.create_task_group() as tg:
        tg.start_soon(app, scope, receive, send)
        with anyio.fail_after(5):
            await first_events.wait()
        assert end_event_streams() == 1
    # The app returned by itself (the task group did not need cancelling).
    assert sent[0]["status"] == 200
    assert sent[-1] == {"type": "http.response.body", "body": b""}
    assert all(m.get("more_body") for m in sent[1:-1])
    assert b"".join(m["body"] for m in sent[1:3]) == b"data: 0\n\ndata: 1\n\n"
    assert closed == [True]  # the handler's iterator was closed
    assert end_event_streams() == 0  # nothing left open


async def test_no_stream_open_ends_none() -> None:
    assert end_event_streams() == 0
