"""One HTTP request/response between a test client and an ASGI app.

The exchange is sans-transport: it runs the app as a task (:meth:`HTTPExchange.run`) and
hands the response out piece by piece (:meth:`response_start`, :meth:`next_chunk`).
The sync transport drives those coroutines through a blocking portal, the async transport
awaits them directly; both therefore behave identically.
"""

from __future__ import annotations

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._types import ASGIApp, Message, Scope

#: Request bodies are fed to the app in chunks of this size, so that streaming parsers
#: see ``more_body=True`` just as they would behind a real server.
REQUEST_CHUNK_SIZE = 64 * 1024

_INTERNAL_ERROR = b"Internal Server Error"


class HTTPExchange:
    def __init__(
        self, app: ASGIApp, scope: Scope, body: bytes, *, raise_server_exceptions: bool
    ) -> None:
        self._app = app
        self._scope = scope
        self._body = body
        self._raise = raise_server_exceptions
        self._offset = 0
        self._request_complete = False
        self._response_started = False
        self._closed = False
        self._stand_in = False
        self.exception: Exception | None = None
        # The app may stream faster than the test reads: a small buffer gives back-pressure,
        # and closing the exchange cancels an app blocked on it.
        out: tuple[MemoryObjectSendStream[Message], MemoryObjectReceiveStream[Message]]
        out = anyio.create_memory_object_stream[Message](16)
        self._out_send, self._out_receive = out
        self._cancel_scope: anyio.CancelScope | None = None
        self._response_complete: anyio.Event | None = None
        self._finished: anyio.Event | None = None

    # -- the app's side ---------------------------------------------------------------

    async def run(self) -> None:
        """Run the app to completion; never raises (the error is kept for the client)."""
        self._response_complete = anyio.Event()
        self._finished = anyio.Event()
        try:
            with self._out_send, anyio.CancelScope() as self._cancel_scope:
                if self._closed:
                    self._cancel_scope.cancel()
                try:
                    await self._app(self._scope, self._receive, self._send)
                except Exception as exc:
                    if not self._closed:
                        self.exception = exc
        finally:
            self._response_complete.set()
            self._finished.set()

    async def _receive(self) -> Message:
        if not self._request_complete:
            chunk = self._body[self._offset : self._offset + REQUEST_CHUNK_SIZE]
            self._offset += len(chunk)
            self._request_complete = self._offset >= len(self._body)
            return {"type": "http.request", "body": chunk, "more_body": not self._request_complete}
        # Like a server: once the body is read, the next receive() waits for the response
        # to complete (or the client to go away) and reports the disconnect.
        assert self._response_complete is not None
        await self._response_complete.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self._response_started:
                raise RuntimeError("The app sent 'http.response.start' twice.")
            self._response_started = True
        elif kind == "http.response.body":
            if not self._response_started:
                raise RuntimeError("The app sent 'http.response.body' before the start message.")
            if not message.get("more_body", False):
                # NOTE: the final chunk is queued *before* the response counts as complete.
                # Completing it first wakes the app's disconnect watcher (receive() now
                # answers http.disconnect), which may cancel this very send, and the last
                # chunk (a compressor's trailer, say) would be lost.
                await self._out_send.send(message)
                assert self._response_complete is not None
                self._response_complete.set()
                return
        else:
            return  # trailers, pathsend... are not modelled by the test client
        await self._out_send.send(message)

    # -- the client's side ------------------------------------------------------------

    async def response_start(self) -> tuple[int, list[tuple[bytes, bytes]]]:
        try:
            message = await self._out_receive.receive()
        except anyio.EndOfStream:
            self._out_receive.close()
            if self.exception is not None:
                if self._raise:
                    raise self.exception from None
                self._stand_in = True
                return 500, [(b"content-type", b"text/plain; charset=utf-8")]
            raise RuntimeError("The app returned without sending 'http.response.start'.") from None
        return message["status"], list(message.get("headers", []))

    async def next_chunk(self) -> bytes | None:
        """Next non-empty body chunk, ``None`` once the app has finished."""
        if self._stand_in:
            # response_start() produced a stand-in 500 for an app that crashed early.
            self._stand_in = False
            return _INTERNAL_ERROR
        if not self._response_started:
            return None
        while True:
            try:
                message = await self._out_receive.receive()
            except anyio.EndOfStream:
                self._out_receive.close()
                if self.exception is not None and self._raise:
                    raise self.exception from None
                return None
            body: bytes = message.get("body", b"")
            if body:
                return body

    async def aclose(self) -> None:
        """Stop listening: the app sees a disconnect, and is cancelled if still running."""
        self._closed = True
        self._out_receive.close()
        if self._response_complete is not None:
            self._response_complete.set()
        if self._cancel_scope is not None:
            self._cancel_scope.cancel()
        if self._finished is not None:
            await self._finished.wait()
