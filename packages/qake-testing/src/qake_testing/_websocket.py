"""WebSocket test sessions: ``client.websocket_connect(path)`` as a context manager."""

from __future__ import annotations

import json as _json
from contextlib import AbstractContextManager, ExitStack
from types import TracebackType
from typing import Any, Literal

import anyio
import httpx
from anyio.abc import TaskGroup
from anyio.from_thread import BlockingPortal

from ._ws_channel import WebSocketChannel, bytes_of, text_of

JSONMode = Literal["text", "binary"]


def _encode_json(data: Any, mode: JSONMode) -> dict[str, Any]:
    text = _json.dumps(data, separators=(",", ":"))
    if mode == "text":
        return {"type": "websocket.receive", "text": text}
    return {"type": "websocket.receive", "bytes": text.encode()}


def _decode_json(message: dict[str, Any], mode: JSONMode) -> Any:
    return _json.loads(text_of(message) if mode == "text" else bytes_of(message))


#: Seconds the sync session's ``receive*()`` wait for the app's next message before
#: ``TimeoutError``: a test waiting for a message that never comes fails, not hangs.
RECEIVE_TIMEOUT = 10.0


class WebSocketTestSession:
    """A WebSocket connection from a sync :class:`~qake_testing.TestClient`.

    Entering it performs the handshake (raising :class:`~qake_testing.WebSocketRejected`
    if the app refuses it); leaving it disconnects with code 1000 unless :meth:`close`
    was called, waits for the app to finish, and re-raises the app's error if any.
    """

    def __init__(
        self, channel: WebSocketChannel, portal: AbstractContextManager[BlockingPortal]
    ) -> None:
        self._channel = channel
        self._portal_cm = portal
        self._stack = ExitStack()
        self._portal: BlockingPortal | None = None

    def __enter__(self) -> WebSocketTestSession:
        with ExitStack() as stack:
            portal = stack.enter_context(self._portal_cm)
            portal.start_task_soon(self._channel.run)
            stack.callback(lambda: portal.call(self._channel.close))
            portal.call(self._channel.connect)
            self._portal = portal
            self._stack = stack.pop_all()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()

    def _call(self, func: Any, *args: Any) -> Any:
        if self._portal is None:
            raise RuntimeError("Use the WebSocket session as a context manager (`with ...`).")
        return self._portal.call(func, *args)

    @property
    def accepted_subprotocol(self) -> str | None:
        return self._channel.accepted_subprotocol

    @property
    def response_headers(self) -> httpx.Headers:
        """Headers the app sent with ``websocket.accept``."""
        return self._channel.response_headers

    def send(self, message: dict[str, Any]) -> None:
        """Send a raw ASGI message to the app."""
        self._call(self._channel.send, message)

    def send_text(self, data: str) -> None:
        self.send({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        self.send({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any, mode: JSONMode = "text") -> None:
        self.send(_encode_json(data, mode))

    def receive(self, timeout: float | None = RECEIVE_TIMEOUT) -> dict[str, Any]:
        """The next raw ``websocket.send`` message; raises WebSocketDisconnect on close,
        ``TimeoutError`` when none comes within ``timeout`` seconds (``None``: no limit)."""

        async def within() -> Any:
            with anyio.fail_after(timeout):
                return await self._channel.receive()

        try:
            return dict(self._call(within))
        except TimeoutError:
            raise TimeoutError(
                f"no WebSocket message from the app within {timeout:g} s "
                "(pass timeout= to wait longer, None for no limit)"
            ) from None

    def receive_text(self, timeout: float | None = RECEIVE_TIMEOUT) -> str:
        return text_of(self.receive(timeout))

    def receive_bytes(self, timeout: float | None = RECEIVE_TIMEOUT) -> bytes:
        return bytes_of(self.receive(timeout))

    def receive_json(self, mode: JSONMode = "text", timeout: float | None = RECEIVE_TIMEOUT) -> Any:
        return _decode_json(self.receive(timeout), mode)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Disconnect with ``code`` and wait for the app to finish."""
        self._call(self._channel.close, code, reason)


class AsyncWebSocketTestSession:
    """A WebSocket connection from :class:`~qake_testing.AsyncTestClient`.

    Use it as ``async with client.websocket_connect("/ws") as ws:``; the app runs in a task
    group owned by the session, so enter and leave it in the same task.
    """

    def __init__(self, channel: WebSocketChannel) -> None:
        self._channel = channel
        self._task_group: TaskGroup | None = None

    async def __aenter__(self) -> AsyncWebSocketTestSession:
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        task_group.start_soon(self._channel.run)
        try:
            await self._channel.connect()
        except BaseException:
            # The channel is closed and the app finished: the group exits cleanly.
            await self._channel.close()
            await task_group.__aexit__(None, None, None)
            raise
        self._task_group = task_group
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._task_group is not None
        task_group, self._task_group = self._task_group, None
        try:
            await self._channel.close()
        finally:
            await task_group.__aexit__(None, None, None)

    @property
    def accepted_subprotocol(self) -> str | None:
        return self._channel.accepted_subprotocol

    @property
    def response_headers(self) -> httpx.Headers:
        """Headers the app sent with ``websocket.accept``."""
        return self._channel.response_headers

    async def send(self, message: dict[str, Any]) -> None:
        """Send a raw ASGI message to the app."""
        await self._channel.send(message)

    async def send_text(self, data: str) -> None:
        await self.send({"type": "websocket.receive", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self.send({"type": "websocket.receive", "bytes": data})

    async def send_json(self, data: Any, mode: JSONMode = "text") -> None:
        await self.send(_encode_json(data, mode))

    async def receive(self) -> dict[str, Any]:
        """The next raw ``websocket.send`` message; raises WebSocketDisconnect on close.
        It waits as long as it takes: bound it with ``anyio.fail_after`` (the sync
        session's ``receive*()`` take a ``timeout``, 10 s by default)."""
        return dict(await self._channel.receive())

    async def receive_text(self) -> str:
        return text_of(await self.receive())

    async def receive_bytes(self) -> bytes:
        return bytes_of(await self.receive())

    async def receive_json(self, mode: JSONMode = "text") -> Any:
        return _decode_json(await self.receive(), mode)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Disconnect with ``code`` and wait for the app to finish."""
        await self._channel.close(code, reason)
