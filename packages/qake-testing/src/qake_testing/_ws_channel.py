"""The ASGI side of a WebSocket test session, shared by the sync and async sessions."""

from __future__ import annotations

import math
from collections.abc import Mapping
from contextlib import suppress

import anyio
import httpx

from ._types import ASGIApp, Message, Scope


class WebSocketDisconnect(Exception):
    """The app closed the WebSocket (or it went away); ``code`` is the close code."""

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return f"WebSocket closed with code {self.code}" + (
            f": {self.reason}" if self.reason else ""
        )


class WebSocketRejected(WebSocketDisconnect):
    """The app refused the handshake.

    ``status_code`` is the HTTP status the client would see (403 when the app closed before
    accepting; the app's own status with the ``websocket.http.response`` extension), and
    ``headers``/``body`` hold that denial response.
    """

    def __init__(
        self,
        code: int = 1000,
        reason: str = "",
        *,
        status_code: int = 403,
        headers: httpx.Headers | None = None,
        body: bytes = b"",
    ) -> None:
        super().__init__(code, reason)
        self.status_code = status_code
        self.headers = headers if headers is not None else httpx.Headers()
        self.body = body

    def __str__(self) -> str:
        return f"WebSocket handshake rejected with HTTP {self.status_code} (close code {self.code})"


class WebSocketChannel:
    def __init__(self, app: ASGIApp, scope: Scope, *, raise_server_exceptions: bool) -> None:
        self._app = app
        self._scope = scope
        self._raise = raise_server_exceptions
        self._to_app_send, self._to_app_receive = anyio.create_memory_object_stream[Message](
            math.inf
        )
        self._from_app_send, self._from_app_receive = anyio.create_memory_object_stream[Message](
            math.inf
        )
        self.exception: Exception | None = None
        self.accepted_subprotocol: str | None = None
        self.response_headers = httpx.Headers()
        self.closed = False
        self._finished: anyio.Event | None = None

    async def run(self) -> None:
        self._finished = anyio.Event()
        try:
            with self._from_app_send, self._to_app_receive:
                await self._app(self._scope, self._to_app_receive.receive, self._send)
        except Exception as exc:
            self.exception = exc
        finally:
            self._finished.set()

    async def _send(self, message: Message) -> None:
        await self._from_app_send.send(message)

    async def _next(self) -> Message | None:
        try:
            return await self._from_app_receive.receive()
        except anyio.EndOfStream:
            if self.exception is not None and self._raise:
                exc, self.exception = self.exception, None
                raise exc from None
            return None

    async def connect(self) -> None:
        await self._to_app_send.send({"type": "websocket.connect"})
        message = await self._next()
        if message is None:
            self.closed = True
            raise WebSocketRejected(1006, "The app returned without accepting the connection.")
        kind = message["type"]
        if kind == "websocket.accept":
            self.accepted_subprotocol = message.get("subprotocol")
            self.response_headers = httpx.Headers(list(message.get("headers", [])))
            return
        self.closed = True
        if kind == "websocket.close":
            raise WebSocketRejected(message.get("code") or 1000, message.get("reason") or "")
        if kind == "websocket.http.response.start":
            raise await self._denial(message)
        raise RuntimeError(f"Unexpected message {kind!r} during the WebSocket handshake.")

    async def _denial(self, start: Message) -> WebSocketRejected:
        body = bytearray()
        while (message := await self._next()) is not None:
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        return WebSocketRejected(
            1008,
            "",
            status_code=start["status"],
            headers=httpx.Headers(list(start.get("headers", []))),
            body=bytes(body),
        )

    async def send(self, message: Message) -> None:
        await self._to_app_send.send(message)

    async def receive(self) -> Message:
        message = await self._next()
        if message is None:
            self.closed = True
            raise WebSocketDisconnect(1006, "The app returned without closing the WebSocket.")
        if message["type"] == "websocket.close":
            self.closed = True
            raise WebSocketDisconnect(message.get("code") or 1000, message.get("reason") or "")
        return message

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Tell the app the client went away, then wait for it to finish."""
        try:
            if not self.closed:
                self.closed = True
                with suppress(anyio.BrokenResourceError):  # the app already returned
                    await self._to_app_send.send(
                        {"type": "websocket.disconnect", "code": code, "reason": reason}
                    )
            await self.wait()
        finally:
            self._to_app_send.close()
            self._from_app_receive.close()

    async def wait(self) -> None:
        if self._finished is not None:
            await self._finished.wait()
        if self.exception is not None and self._raise:
            exc, self.exception = self.exception, None
            raise exc


def text_of(message: Mapping[str, object]) -> str:
    text = message.get("text")
    if not isinstance(text, str):
        raise TypeError("Expected a text WebSocket message, got a binary one.")
    return text


def bytes_of(message: Mapping[str, object]) -> bytes:
    data = message.get("bytes")
    if not isinstance(data, bytes):
        raise TypeError("Expected a binary WebSocket message, got a text one.")
    return data
