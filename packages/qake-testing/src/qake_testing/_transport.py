"""httpx transports that speak ASGI to an app in the same process.

:class:`ASGITransport` (sync) runs the app through an anyio blocking portal so that a
plain ``def test_...`` can drive an async app; :class:`AsyncASGITransport` awaits it
directly. Both stream the response body: the app runs as a task and each chunk is handed
to httpx as it arrives, so ``client.stream(...)`` works on endless responses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from typing import Any

import anyio
import httpx
from anyio.abc import TaskGroup
from anyio.from_thread import BlockingPortal

from ._exchange import HTTPExchange
from ._scope import http_scope
from ._types import Address, ASGIApp

PortalFactory = Callable[[], AbstractContextManager[BlockingPortal]]


class _SyncBody(httpx.SyncByteStream):
    def __init__(self, portal: BlockingPortal, exchange: HTTPExchange, stack: ExitStack) -> None:
        self._portal = portal
        self._exchange = exchange
        self._stack = stack

    def __iter__(self) -> Iterator[bytes]:
        while (chunk := self._portal.call(self._exchange.next_chunk)) is not None:
            yield chunk

    def close(self) -> None:
        with self._stack:
            self._portal.call(self._exchange.aclose)


class ASGITransport(httpx.BaseTransport):
    """Sync httpx transport calling an ASGI app through a blocking portal."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        portal_factory: PortalFactory,
        raise_server_exceptions: bool = True,
        root_path: str = "",
        client: Address = ("testclient", 50000),
        state: dict[str, Any] | None = None,
    ) -> None:
        self.app = app
        self.portal_factory = portal_factory
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        self.client = client
        self.state: dict[str, Any] = {} if state is None else state

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        scope = http_scope(request, root_path=self.root_path, client=self.client, state=self.state)
        exchange = HTTPExchange(
            self.app, scope, body, raise_server_exceptions=self.raise_server_exceptions
        )
        with ExitStack() as stack:
            portal = stack.enter_context(self.portal_factory())
            portal.start_task_soon(exchange.run)
            try:
                status, headers = portal.call(exchange.response_start)
            except BaseException:
                portal.call(exchange.aclose)
                raise
            # The body stream now owns the portal; it is released when httpx closes it.
            stream = _SyncBody(portal, exchange, stack.pop_all())
        return httpx.Response(status, headers=headers, stream=stream, request=request)


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, exchange: HTTPExchange) -> None:
        self._exchange = exchange

    # An iterator class rather than an async generator: a body the test stops reading
    # half-way must not leave a generator for trio to finalize (and warn about).
    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self._exchange.next_chunk()
        if chunk is None:
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        await self._exchange.aclose()


class AsyncASGITransport(httpx.AsyncBaseTransport):
    """Async httpx transport awaiting an ASGI app in the caller's event loop.

    With a task group (the client is used as ``async with``) the app runs beside the test
    and the body streams; without one the response is read whole before it is returned,
    because a task cannot outlive the call that started it.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        task_group: Callable[[], TaskGroup | None] = lambda: None,
        raise_server_exceptions: bool = True,
        root_path: str = "",
        client: Address = ("testclient", 50000),
        state: dict[str, Any] | None = None,
    ) -> None:
        self.app = app
        self.task_group = task_group
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        self.client = client
        self.state: dict[str, Any] = {} if state is None else state

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        scope = http_scope(request, root_path=self.root_path, client=self.client, state=self.state)
        exchange = HTTPExchange(
            self.app, scope, body, raise_server_exceptions=self.raise_server_exceptions
        )
        task_group = self.task_group()
        if task_group is None:
            return await self._buffered(exchange, request)
        task_group.start_soon(exchange.run)
        try:
            status, headers = await exchange.response_start()
        except BaseException:
            await exchange.aclose()
            raise
        return httpx.Response(status, headers=headers, stream=_AsyncBody(exchange), request=request)

    async def _buffered(self, exchange: HTTPExchange, request: httpx.Request) -> httpx.Response:
        error: BaseException | None = None
        chunks: list[bytes] = []
        # The exchange never raises into the task group; the error is re-raised below so
        # that the test sees the app's own exception, not an ExceptionGroup.
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(exchange.run)
            try:
                status, headers = await exchange.response_start()
                while (chunk := await exchange.next_chunk()) is not None:
                    chunks.append(chunk)
            except Exception as exc:
                error = exc
            finally:
                await exchange.aclose()
        if error is not None:
            raise error
        # A ByteStream, not content=, so that httpx adds no Content-Length the app did not send.
        stream = httpx.ByteStream(b"".join(chunks))
        return httpx.Response(status, headers=headers, stream=stream, request=request)
