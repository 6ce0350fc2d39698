"""Server-sent events: ``EventSourceResponse`` streaming ``ServerSentEvent`` values."""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import orjson

from qake_core._background import BackgroundTasks
from qake_core._responses import StreamingResponse
from qake_core.types import Send

__all__ = ["EventSourceResponse", "ServerSentEvent", "end_event_streams"]


def _line_safe(value: str, what: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError(f"server-sent event {what} may not contain a line break")
    return value


@dataclass(slots=True)
class ServerSentEvent:
    """One event. ``data`` is text (split over ``data:`` lines) or JSON-encoded."""

    data: Any = None
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    comment: str | None = None

    def encode(self) -> bytes:
        """The event in the ``text/event-stream`` wire format."""
        lines: list[str] = []
        if self.comment is not None:
            lines.extend(f": {line}" for line in self.comment.splitlines() or [""])
        if self.event is not None:
            lines.append(f"event: {_line_safe(self.event, 'event')}")
        if self.id is not None:
            lines.append(f"id: {_line_safe(self.id, 'id')}")
        if self.retry is not None:
            lines.append(f"retry: {int(self.retry)}")
        if self.data is not None:
            data = self.data
            if not isinstance(data, str):
                data = orjson.dumps(data).decode()
            lines.extend(f"data: {line}" for line in data.splitlines() or [""])
        return ("\n".join(lines) + "\n\n").encode()


def _encode(item: Any) -> bytes:
    if isinstance(item, ServerSentEvent):
        return item.encode()
    if isinstance(item, bytes):
        return item
    return ServerSentEvent(data=item).encode()


class EventSourceResponse(StreamingResponse):
    """A ``text/event-stream`` response.

    The iterable yields ``ServerSentEvent`` objects, strings or JSON-able values.
    While it is idle for ``ping_interval`` seconds a ``: ping`` comment is sent so
    proxies keep the connection open. Caches and proxy buffering are disabled.
    """

    __slots__ = ("ping_interval",)
    media_type = "text/event-stream"

    def __init__(
        self,
        content: AsyncIterable[Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTasks | None = None,
        ping_interval: float = 15.0,
    ) -> None:
        merged = {"cache-control": "no-store", "x-accel-buffering": "no", **(headers or {})}
        super().__init__(content, status_code, merged, None, background)
        self.ping_interval = ping_interval

    async def _stream(self, send: Send) -> None:
        send_stream, receive_stream = anyio.create_memory_object_stream[bytes](16)

        async def produce() -> None:
            async with send_stream:
                async for item in self.body_iterator:
                    await send_stream.send(_encode(item))

        stop = anyio.Event()

        async def end_when_stopped(scope: anyio.CancelScope) -> None:
            await stop.wait()
            scope.cancel()

        _OPEN.add(stop)
        try:
            async with anyio.create_task_group() as tg, receive_stream:
                tg.start_soon(produce)
                tg.start_soon(end_when_stopped, tg.cancel_scope)
                while True:
                    data = b""
                    with anyio.move_on_after(self.ping_interval) as scope:
                        try:
                            data = await receive_stream.receive()
                        except anyio.EndOfStream:
                            break
                    if scope.cancelled_caught:
                        data = b": ping\n\n"
                    await send({"type": "http.response.body", "body": data, "more_body": True})
                tg.cancel_scope.cancel()  # the events ended: so does the stop watch
        finally:
            _OPEN.discard(stop)
        await send({"type": "http.response.body", "body": b""})


#: The stop signal of each event stream being sent (see :func:`end_event_streams`).
_OPEN: set[anyio.Event] = set()


def end_event_streams() -> int:
    """End every event stream this process is sending, as their iterators would: each
    finishes its response, so that the server's graceful shutdown need not wait for
    them (an event stream never ends by itself) and each client's ``EventSource``
    reconnects, to another instance. How many were ended.

    ``qake run`` calls it when the server starts its shutdown (after the drain period).
    Call it from the event loop that serves the streams."""
    open_streams = list(_OPEN)
    for stop in open_streams:
        stop.set()
    return len(open_streams)
