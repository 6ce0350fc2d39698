"""``Broadcast``: publish to channels, fan out to local subscribers with bounded queues."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Self

import anyio
import orjson

from qake_ws._exceptions import WebSocketDisconnect
from qake_ws._websocket import WebSocket

__all__ = [
    "DEFAULT_MAX_QUEUE",
    "Broadcast",
    "BroadcastUnavailable",
    "MemoryBroadcast",
    "Subscriber",
    "SubscriberDropped",
]

#: Messages a subscriber may have waiting before it is dropped as too slow.
DEFAULT_MAX_QUEUE = 100

# RFC 6455 section 7.4.1: 1013 "try again later"; 1008 "policy violation".
_TRY_AGAIN_LATER = 1013
_DROPPED_REASON = "subscriber too slow"


class SubscriberDropped(Exception):
    """A subscriber's queue overflowed: it fell behind and was dropped."""

    def __init__(self, channel: str) -> None:
        super().__init__(f"subscriber of channel {channel!r} fell behind and was dropped")
        self.channel = channel


class BroadcastUnavailable(ConnectionError):
    """The broadcast backend cannot be reached (the message was not published)."""


def encode_message(message: Any) -> bytes:
    """One tagged payload for the wire: ``t`` text, ``b`` bytes, ``j`` JSON (orjson)."""
    if isinstance(message, str):
        return b"t" + message.encode("utf-8")
    if isinstance(message, bytes | bytearray | memoryview):
        return b"b" + bytes(message)
    return b"j" + orjson.dumps(message)


def decode_message(payload: bytes) -> Any:
    """The value :func:`encode_message` encoded (JSON comes back as its decoded value)."""
    tag, body = payload[:1], payload[1:]
    if tag == b"t":
        return body.decode("utf-8")
    if tag == b"b":
        return body
    if tag == b"j":
        return orjson.loads(body)
    raise ValueError(f"not a broadcast payload (tag {tag!r})")


class Subscriber:
    """One subscription to a channel: ``async for message in subscriber``.

    Messages wait in a queue of at most ``max_queue``; a message that finds the queue
    full drops the subscriber, and its iteration raises :class:`SubscriberDropped` once
    the messages already queued are consumed. Publishers never wait for it.
    """

    __slots__ = ("_buffer", "_closed", "_dropped", "_loop", "_waiter", "channel", "max_queue")

    def __init__(self, channel: str, max_queue: int) -> None:
        self.channel = channel
        self.max_queue = max_queue
        self._buffer: deque[Any] = deque()
        # PERF: on asyncio the waiting subscriber parks on one bare future, made when it
        # waits (an anyio.Event costs 1.9 µs to make, and one wait per delivered batch
        # adds up over a thousand subscribers); other loops use an anyio.Event.
        self._loop = _running_asyncio_loop()
        self._waiter: Any = None
        self._dropped = False
        self._closed = False

    @property
    def dropped(self) -> bool:
        """Whether the subscriber fell behind and was dropped."""
        return self._dropped

    def offer(self, message: Any) -> bool:
        """Queue ``message``; ``False`` (and the subscriber dropped) when it is full."""
        if self._dropped or self._closed:
            return False
        buffer = self._buffer
        if len(buffer) >= self.max_queue:
            # NOTE: the backlog is freed at once: a dropped subscriber holds no memory.
            buffer.clear()
            self._dropped = True
            self._wake()
            return False
        buffer.append(message)
        if self._waiter is not None:
            self._wake()
        return True

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is None:
            return
        if self._loop is None:
            waiter.set()
        elif not waiter.done():
            waiter.set_result(None)

    async def _wait(self) -> None:
        loop = self._loop
        try:
            if loop is None:
                event = self._waiter = anyio.Event()
                await event.wait()
            else:
                future = self._waiter = loop.create_future()
                await future
        finally:
            self._waiter = None

    def close(self) -> None:
        """End the iteration (after the queued messages)."""
        self._closed = True
        self._wake()

    def __aiter__(self) -> Subscriber:
        return self

    async def __anext__(self) -> Any:
        while True:
            if self._buffer:
                return self._buffer.popleft()
            if self._dropped:
                raise SubscriberDropped(self.channel)
            if self._closed:
                raise StopAsyncIteration
            await self._wait()

    async def send_to(self, websocket: WebSocket) -> None:
        """Send every message to ``websocket`` until the subscription ends (raises
        :class:`SubscriberDropped` when dropped); each wake sends the whole backlog."""
        buffer = self._buffer
        while True:
            while buffer:
                message = buffer.popleft()
                if type(message) is str:
                    await websocket.send_text(message)
                else:
                    await _send_one(websocket, message)
            if self._dropped:
                raise SubscriberDropped(self.channel)
            if self._closed:
                return
            await self._wait()

    def __repr__(self) -> str:
        return f"<Subscriber channel={self.channel!r} queued={len(self._buffer)}>"


def _running_asyncio_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None  # trio, or no loop at all


class Broadcast:
    """Channels with local fan-out; subclasses say how a message reaches every process.

    ``async with broadcast:`` (or ``connect()`` / ``disconnect()`` in a lifespan) opens
    the backend; ``await broadcast.publish(channel, message)`` sends text, bytes or a
    JSON-able value; ``async with broadcast.subscribe(channel) as sub`` receives them;
    ``await broadcast.forward(channel, websocket)`` sends them to a socket.
    """

    def __init__(
        self, *, max_queue: int = DEFAULT_MAX_QUEUE, drop_code: int = _TRY_AGAIN_LATER
    ) -> None:
        if max_queue < 1:
            raise ValueError(f"max_queue must be at least 1, got {max_queue}")
        self.max_queue = max_queue
        self.drop_code = drop_code
        self._channels: dict[str, set[Subscriber]] = {}
        self._connected = False

    # -- backend hooks ---------------------------------------------------------------------

    async def _open(self) -> None:
        """Connect the backend."""

    async def _close(self) -> None:
        """Disconnect the backend."""

    async def _send(self, channel: str, message: Any) -> None:
        """Deliver one message to the channel in every process (here: this one)."""
        self.fan_out(channel, decode_message(encode_message(message)))

    async def _listen(self, channel: str) -> None:
        """The first local subscriber of ``channel`` arrived."""

    async def _unlisten(self, channel: str) -> None:
        """The last local subscriber of ``channel`` left."""

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether :meth:`connect` was called (and not :meth:`disconnect` since)."""
        return self._connected

    async def connect(self) -> None:
        """Open the backend (idempotent)."""
        if not self._connected:
            await self._open()
            self._connected = True

    async def disconnect(self) -> None:
        """Close the backend and end every local subscription."""
        if self._connected:
            self._connected = False
            for subscribers in self._channels.values():
                for subscriber in subscribers:
                    subscriber.close()
            self._channels.clear()
            await self._close()

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    def _require_connected(self) -> None:
        if not self._connected:
            raise RuntimeError(
                f"{type(self).__name__} is not connected: use `async with broadcast:` "
                "or `await broadcast.connect()` (e.g. in the app's lifespan)"
            )

    # -- publish and subscribe -------------------------------------------------------------

    async def publish(self, channel: str, message: Any) -> None:
        """Send ``message`` (str, bytes or JSON-able) to every subscriber of ``channel``."""
        self._require_connected()
        await self._send(channel, message)

    def fan_out(self, channel: str, message: Any) -> int:
        """Queue ``message`` for this process's subscribers; returns how many got it."""
        subscribers = self._channels.get(channel)
        if not subscribers:
            return 0
        delivered = 0
        for subscriber in tuple(subscribers):
            if subscriber.offer(message):
                delivered += 1
            else:
                subscribers.discard(subscriber)
        return delivered

    def subscriber_count(self, channel: str) -> int:
        """How many local subscribers ``channel`` has."""
        return len(self._channels.get(channel, ()))

    @asynccontextmanager
    async def subscribe(
        self, channel: str, *, max_queue: int | None = None
    ) -> AsyncIterator[Subscriber]:
        """Subscribe to ``channel`` for the ``async with`` block."""
        self._require_connected()
        if max_queue is not None and max_queue < 1:
            raise ValueError(f"max_queue must be at least 1, got {max_queue}")
        subscriber = Subscriber(channel, max_queue or self.max_queue)
        subscribers = self._channels.setdefault(channel, set())
        first = not subscribers
        subscribers.add(subscriber)
        try:
            if first:
                await self._listen(channel)
            yield subscriber
        finally:
            subscriber.close()
            remaining = self._channels.get(channel)
            if remaining is not None:
                remaining.discard(subscriber)
                if not remaining:
                    del self._channels[channel]
                    if self._connected:
                        with anyio.CancelScope(shield=True):
                            await self._unlisten(channel)

    async def forward(
        self,
        channel: str,
        websocket: WebSocket,
        *,
        on_receive: Callable[[str | bytes], Awaitable[None]] | None = None,
        drop_code: int | None = None,
    ) -> None:
        """Send every message of ``channel`` to ``websocket`` until the socket closes.

        Text goes as a text frame, bytes as binary, anything else as JSON text. The
        client's own messages go to ``on_receive`` (ignored without one). A socket too
        slow to keep up is closed with ``drop_code`` (1013 unless configured; 1008 is
        the other usual choice) and :class:`SubscriberDropped` is not raised.
        """
        code = self.drop_code if drop_code is None else drop_code
        async with self.subscribe(channel) as subscriber, anyio.create_task_group() as tg:
            # PERF: the sending runs in its own task: a delivery wakes a two-frame
            # stack, not the handler's whole chain of awaits.
            tg.start_soon(_deliver, subscriber, websocket, code, tg.cancel_scope)
            await _pump_client(websocket, on_receive)
            tg.cancel_scope.cancel()


async def _deliver(
    subscriber: Subscriber, websocket: WebSocket, drop_code: int, scope: anyio.CancelScope
) -> None:
    """Send the subscription to the socket; a dropped subscriber closes it."""
    try:
        await subscriber.send_to(websocket)
    except SubscriberDropped:
        await websocket.close(drop_code, _DROPPED_REASON)
    except WebSocketDisconnect:
        pass
    scope.cancel()


async def _send_one(websocket: WebSocket, message: Any) -> None:
    if isinstance(message, str):
        await websocket.send_text(message)
    elif isinstance(message, bytes):
        await websocket.send_bytes(message)
    else:
        await websocket.send_json(message)


async def _pump_client(
    websocket: WebSocket, on_receive: Callable[[str | bytes], Awaitable[None]] | None
) -> None:
    """Read the client's messages until it disconnects."""
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if on_receive is not None:
                data = message.get("text")
                await on_receive(data if data is not None else message.get("bytes") or b"")
    except (WebSocketDisconnect, RuntimeError):
        return  # the client left, or the socket was closed (a dropped subscriber)


class MemoryBroadcast(Broadcast):
    """In-process broadcast (the default): every subscriber lives in this process.

    Enough for one worker; with several workers or hosts use :class:`RedisBroadcast`.
    JSON values are checked and copied through orjson on publish, so every backend
    delivers the same values.
    """
