"""``WebSocket``: one connection, its handshake, messages, limits and close."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeVar, overload

import anyio
import orjson

from qake_core import HTTPConnection, Response, send_denial
from qake_core.types import Message, Receive, Scope, Send
from qake_ws._exceptions import WebSocketDisconnect
from qake_ws._limits import AsyncioIdleWatch, MessageRate
from qake_ws._models import InvalidMessage, InvalidMessagePolicy, adapter_for, validate
from qake_ws._state import WebSocketState

if TYPE_CHECKING:
    from pydantic import TypeAdapter

T = TypeVar("T")

__all__ = ["DEFAULT_MAX_MESSAGE_SIZE", "WebSocket"]

#: The default limit on one received message: 1 MiB (text measured in UTF-8 bytes).
DEFAULT_MAX_MESSAGE_SIZE = 1 << 20

_CONNECTING = WebSocketState.CONNECTING
_CONNECTED = WebSocketState.CONNECTED
_DISCONNECTED = WebSocketState.DISCONNECTED

# RFC 6455 close codes the application sends on the client's behalf.
_GOING_AWAY = 1001
_UNSUPPORTED_DATA = 1003
_INVALID_PAYLOAD = 1007
_POLICY_VIOLATION = 1008
_MESSAGE_TOO_BIG = 1009
# What WebSocket._next returns: the raw message, a data message, or its payload.
_RAW, _DATA, _TEXT, _BYTES = 0, 1, 2, 3
_EXPECTED = {_TEXT: "expected a text message", _BYTES: "expected a binary message"}
_MAX_REASON_BYTES = 123  # a close frame's payload is at most 125 bytes, 2 for the code

HeadersArg = Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]


def _latin1(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


def _raw_headers(headers: HeadersArg | None) -> list[tuple[bytes, bytes]]:
    if headers is None:
        return []
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return [(_latin1(name).lower(), _latin1(value)) for name, value in pairs]


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _check_reason(reason: str) -> str:
    if len(reason.encode("utf-8")) > _MAX_REASON_BYTES:
        raise ValueError(
            f"a WebSocket close reason is at most {_MAX_REASON_BYTES} UTF-8 bytes; "
            f"got {reason[:40]!r}... (shorten it)"
        )
    return reason


class WebSocket(HTTPConnection):
    """A WebSocket connection: the handshake scope plus receive/send of messages.

    ``await ws.accept()`` completes the handshake; ``receive_*``/``send_*`` exchange
    text, bytes or JSON; ``iter_*`` loop until the client disconnects; ``close()``
    ends it. A received message over ``max_message_size`` bytes closes the
    connection with 1009 and raises :class:`WebSocketDisconnect`; so does a client sending
    more than ``max_messages_per_second`` (1008), or sending nothing for ``idle_timeout``
    seconds while the app waits in ``receive*()`` (1001).
    """

    __slots__ = (
        "_idle_watch",
        "_idle_watch_ready",
        "_rate",
        "_receive",
        "_send",
        "application_state",
        "client_state",
        "idle_timeout",
        "invalid_message",
        "last_received_at",
        "max_message_size",
    )

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        path_params: dict[str, Any] | None = None,
        *,
        max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
        max_messages_per_second: float | None = None,
        idle_timeout: float | None = None,
        invalid_message: InvalidMessagePolicy = "close",
    ) -> None:
        if scope["type"] != "websocket":
            raise ValueError(f"WebSocket needs a 'websocket' scope, got {scope['type']!r}")
        super().__init__(scope, path_params)
        self._receive = receive
        self._send = send
        self.client_state = _CONNECTING
        self.application_state = _CONNECTING
        #: Largest accepted message in bytes (``None``: no limit beyond the server's).
        self.max_message_size = max_message_size
        rate = max_messages_per_second
        self._rate = None if rate is None else MessageRate(rate)
        #: Seconds ``receive*()`` waits for a message before closing with 1001 (``None``: forever).
        self.idle_timeout = idle_timeout
        #: ``time.monotonic()`` of the last message received (or of the connection's start).
        self.last_received_at = time.monotonic()
        self._idle_watch: AsyncioIdleWatch | None = None
        self._idle_watch_ready = False
        #: What :meth:`receive_model` does with an invalid message: ``"close"`` (1007)
        #: or ``"error"`` (send ``{"type": "error", "errors": [...]}``, read the next).
        self.invalid_message: InvalidMessagePolicy = invalid_message

    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order of preference."""
        return list(self.scope.get("subprotocols", ()))

    # -- raw ASGI messages ----------------------------------------------------------------

    async def receive(self) -> Message:
        """The next ASGI message (``websocket.connect``/``receive``/``disconnect``)."""
        state = self.client_state
        if state is _CONNECTED:
            message: Message = await self._next()
            return message
        if state is _CONNECTING:
            message = await self._receive()
            if message["type"] != "websocket.connect":
                raise RuntimeError(f"expected 'websocket.connect', got {message['type']!r}")
            self.client_state = _CONNECTED
            return message
        raise RuntimeError("cannot receive: the client has disconnected")

    async def _next(self, mode: int = _RAW, iterating: bool = False) -> Any:
        """The next message of a connected client, its limits applied (too big: 1009,
        too many: 1008, none within ``idle_timeout``: 1001, each raising
        :class:`WebSocketDisconnect`). ``_RAW``: the ``websocket.receive`` or
        ``websocket.disconnect`` message; ``_DATA``: a ``websocket.receive`` (a
        disconnect raises); ``_TEXT``/``_BYTES``: its payload (the other kind closes with
        1003). ``iterating``: every :class:`WebSocketDisconnect` ends the iteration.
        PERF: ``receive_*`` and ``iter_*`` return this coroutine: the one frame between
        the handler and the server."""
        try:
            watch = self._idle_watch
            if watch is None and not self._idle_watch_ready:
                watch = self._start_idle_watch()
            if watch is not None:
                loop = watch.loop
                watch.deadline = loop.time() + watch.timeout
                if watch.handle is None:
                    watch.start()
                # PERF: with the loop, current_task() costs 60 ns, not 220.
                watch.waiter = asyncio.current_task(loop)
                try:
                    message = await self._receive()
                except asyncio.CancelledError:
                    if watch.expired():
                        await self._fail(_GOING_AWAY, "idle timeout")
                    raise
                finally:
                    watch.waiter = None
            elif self.idle_timeout is None:
                message = await self._receive()
            else:
                message = await self._receive_within_idle_timeout()
            if message["type"] == "websocket.receive":
                self.last_received_at = time.monotonic()
                problem = self._over_limits(message)
                if problem is not None:
                    await self._fail(*problem)
                if mode < _TEXT:
                    return message
                payload = message.get("text" if mode == _TEXT else "bytes")
                if payload is None:
                    await self._fail(_UNSUPPORTED_DATA, _EXPECTED[mode])
                return payload
            if message["type"] != "websocket.disconnect":
                kind = message["type"]
                raise RuntimeError(f"unexpected ASGI message {kind!r} on a connected WebSocket")
            self.client_state = _DISCONNECTED
            self._stop_idle_watch()
            if mode == _RAW:
                return message
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        except WebSocketDisconnect:
            if iterating:
                raise StopAsyncIteration from None
            raise

    def _start_idle_watch(self) -> AsyncioIdleWatch | None:
        """On asyncio with an ``idle_timeout``: the lazy idle watch, made on the first
        receive (it needs the running loop)."""
        self._idle_watch_ready = True
        if self.idle_timeout is not None and _on_asyncio():
            self._idle_watch = AsyncioIdleWatch(self.idle_timeout)
        return self._idle_watch

    async def _receive_within_idle_timeout(self) -> Message:
        """The server's next message within ``idle_timeout``, else close with 1001 (trio:
        a cancel scope per wait, as trio's are cheap)."""
        with anyio.move_on_after(self.idle_timeout or 0):
            return await self._receive()
        return await self._fail(_GOING_AWAY, "idle timeout")

    def _over_limits(self, message: Message) -> tuple[int, str] | None:
        """The close code and reason when a received message breaks a limit."""
        limit = self.max_message_size
        if limit is not None:
            text = message.get("text")
            if text is not None:
                # PERF: a code point is at most 4 UTF-8 bytes; encode only when it could
                # matter.
                size = len(text)
                if size * 4 > limit and (size > limit or len(text.encode("utf-8")) > limit):
                    return _MESSAGE_TOO_BIG, f"message larger than {limit} bytes"
            else:
                payload = message.get("bytes")
                if payload is not None and len(payload) > limit:
                    return _MESSAGE_TOO_BIG, f"message larger than {limit} bytes"
        rate = self._rate
        if rate is not None and not rate.take():
            return _POLICY_VIOLATION, "too many messages"
        return None

    async def send(self, message: Message) -> None:
        """Send an ASGI message, checking it is valid in the connection's state."""
        state = self.application_state
        kind = message["type"]
        if state is _CONNECTED:
            if kind == "websocket.close":
                self.application_state = _DISCONNECTED
            elif kind != "websocket.send":
                raise RuntimeError(f"cannot send {kind!r}: the WebSocket is already accepted")
        elif state is _CONNECTING:
            if kind == "websocket.accept":
                self.application_state = _CONNECTED
            elif kind == "websocket.close":
                self.application_state = _DISCONNECTED
            else:
                raise RuntimeError(f"cannot send {kind!r} before accept(); call accept() first")
        else:
            raise RuntimeError(f"cannot send {kind!r}: the WebSocket is closed")
        try:
            await self._send(message)
        except OSError:
            self._gone()

    def _gone(self) -> NoReturn:
        # ASGI 2.4: a server raises an OSError subclass when the client is gone.
        self.application_state = self.client_state = _DISCONNECTED
        raise WebSocketDisconnect(1006) from None

    # -- handshake and close --------------------------------------------------------------

    async def accept(
        self, subprotocol: str | None = None, headers: HeadersArg | None = None
    ) -> None:
        """Complete the handshake, choosing one of the offered ``subprotocols``."""
        if self.client_state is _CONNECTING:
            await self.receive()
        if subprotocol is not None and subprotocol not in self.scope.get("subprotocols", ()):
            raise ValueError(
                f"cannot accept subprotocol {subprotocol!r}: the client offered "
                f"{self.subprotocols!r}; pick one of those or None"
            )
        message: dict[str, Any] = {"type": "websocket.accept", "subprotocol": subprotocol}
        if headers is not None:
            message["headers"] = _raw_headers(headers)
        await self.send(message)

    async def send_denial_response(self, response: Response) -> None:
        """Refuse the handshake with ``response`` (its status, headers and body) through
        the ``websocket.http.response`` extension; a server without it gets a 1008 close
        (its client sees HTTP 403). Only before ``accept()``."""
        if self.application_state is not _CONNECTING:
            raise RuntimeError("send_denial_response() is only possible before accept()")
        if self.client_state is _CONNECTING:
            await self.receive()  # the handshake's websocket.connect comes first
        self.application_state = _DISCONNECTED
        try:
            await send_denial(self.scope, self._send, response, _POLICY_VIOLATION)
        except OSError:
            pass  # the client left while being refused
        self.client_state = _DISCONNECTED

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection (before ``accept()`` this refuses the handshake: HTTP 403).

        Closing a connection that is already closed, by either side, does nothing.
        """
        self._stop_idle_watch()
        if self.application_state is _DISCONNECTED or self.client_state is _DISCONNECTED:
            self.application_state = _DISCONNECTED
            return
        if self.client_state is _CONNECTING:
            await self.receive()  # the handshake's websocket.connect comes first
        await self.send(
            {"type": "websocket.close", "code": code, "reason": _check_reason(reason or "")}
        )

    def _stop_idle_watch(self) -> None:
        if self._idle_watch is not None:
            self._idle_watch.stop()

    async def _fail(self, code: int, reason: str) -> NoReturn:
        """Close with ``code`` because of what the client sent, then raise."""
        await self.close(code, reason)
        self.client_state = _DISCONNECTED
        raise WebSocketDisconnect(code, reason)

    # -- data -----------------------------------------------------------------------------

    def _receive_data(self, mode: int = _DATA, iterating: bool = False) -> Awaitable[Any]:
        """The next data message or payload (see :meth:`_next`), after checking the
        states. PERF: returns :meth:`_next`'s coroutine: no frame of its own."""
        if self.application_state is not _CONNECTED:
            raise RuntimeError("cannot receive data before accept(); call accept() first")
        if self.client_state is not _CONNECTED:
            raise RuntimeError("cannot receive: the client has disconnected")
        return self._next(mode, iterating)

    def receive_text(self) -> Awaitable[str]:
        """The next text message; a binary one closes the connection with 1003."""
        return self._receive_data(_TEXT)

    def receive_bytes(self) -> Awaitable[bytes]:
        """The next binary message; a text one closes the connection with 1003."""
        return self._receive_data(_BYTES)

    async def receive_json(self) -> Any:
        """The next message (text or binary) parsed as JSON; bad JSON closes with 1007."""
        message = await self._receive_data()
        data = message.get("text")
        if data is None:
            data = message.get("bytes", b"")
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            await self._fail(_INVALID_PAYLOAD, "malformed JSON")

    @overload
    async def receive_model(self, model: type[T]) -> T: ...
    @overload
    async def receive_model(self, model: TypeAdapter[T]) -> T: ...
    @overload
    async def receive_model(self, model: Any) -> Any: ...

    async def receive_model(self, model: Any) -> Any:
        """The next message (JSON in a text or binary frame) validated as ``model`` (a
        pydantic model, dataclass, TypedDict, union... or a ``TypeAdapter``).

        An invalid message closes the connection with 1007 and raises
        :class:`WebSocketDisconnect`; with ``invalid_message="error"`` (a route option)
        the client gets ``{"type": "error", "errors": [...]}`` (pydantic's errors, as in
        a 422 body) and the next message is read instead.
        """
        adapter = adapter_for(model)
        while True:
            message = await self._receive_data()
            data = message.get("text")
            if data is None:
                data = message.get("bytes", b"")
            try:
                return validate(adapter, data)
            except InvalidMessage as exc:
                if self.invalid_message == "close":
                    await self._fail(_INVALID_PAYLOAD, "invalid message")
                await self.send_json({"type": "error", "errors": exc.errors})

    async def send_text(self, data: str) -> None:
        if self.application_state is _CONNECTED:
            # PERF: the state's one valid case, without send()'s frame.
            try:
                await self._send({"type": "websocket.send", "text": data})
            except OSError:
                self._gone()
            return
        await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self.send({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        """Send ``data`` serialised by orjson, as a text (default) or binary message."""
        raw = orjson.dumps(data)
        if mode == "text":
            await self.send({"type": "websocket.send", "text": raw.decode("utf-8")})
        else:
            await self.send({"type": "websocket.send", "bytes": raw})

    # -- iteration ------------------------------------------------------------------------

    def iter_text(self) -> AsyncIterator[str]:
        """Text messages until the client disconnects (the loop then simply ends)."""
        return _Messages(self, _TEXT)

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """Binary messages until the client disconnects."""
        return _Messages(self, _BYTES)

    async def iter_json(self) -> AsyncIterator[Any]:
        """JSON messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            pass


class _Messages:
    """``iter_text()``/``iter_bytes()``: each step is :meth:`WebSocket._next`'s
    coroutine itself (PERF: no async generator frame resumed per message)."""

    __slots__ = ("_mode", "_websocket")

    def __init__(self, websocket: WebSocket, mode: int) -> None:
        self._websocket = websocket
        self._mode = mode

    def __aiter__(self) -> _Messages:
        return self

    def __anext__(self) -> Awaitable[Any]:
        websocket = self._websocket
        if websocket.client_state is _DISCONNECTED and websocket.application_state is not (
            _CONNECTING
        ):
            return _stop()  # the connection ended (a limit closed it, or the client left)
        return websocket._receive_data(self._mode, iterating=True)


async def _stop() -> NoReturn:
    raise StopAsyncIteration
