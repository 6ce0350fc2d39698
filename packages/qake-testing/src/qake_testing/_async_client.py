"""``AsyncTestClient``: an async httpx client that awaits an ASGI app in-process."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any

import anyio
import httpx
from anyio.abc import TaskGroup

from ._handshake import login, websocket_request
from ._lifespan import Lifespan
from ._login import LoginCredentials, LoginProvider
from ._scope import websocket_scope
from ._transport import AsyncASGITransport
from ._types import Address, ASGIApp
from ._websocket import AsyncWebSocketTestSession
from ._ws_channel import WebSocketChannel


class AsyncTestClient(httpx.AsyncClient):
    """Call an ASGI app from an async test (asyncio or trio, through anyio).

    ``async with AsyncTestClient(app) as client:`` runs the app's lifespan once (startup
    on entry, shutdown on exit) and lets response bodies stream while the app is still
    sending. Without ``async with`` the lifespan is **not** run and each response is read
    whole before the request returns.
    """

    __test__ = False

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        *,
        raise_server_exceptions: bool = True,
        root_path: str = "",
        client: Address = ("testclient", 50000),
        headers: Mapping[str, str] | None = None,
        cookies: httpx.Cookies | dict[str, str] | None = None,
        follow_redirects: bool = True,
        timeout: float | None = None,
    ) -> None:
        self.app = app
        #: The lifespan state; each request's ``scope["state"]`` is a shallow copy of it.
        self.app_state: dict[str, Any] = {}
        self._task_group: TaskGroup | None = None
        self._lifespan_stack = AsyncExitStack()
        transport = AsyncASGITransport(
            app,
            task_group=lambda: self._task_group,
            raise_server_exceptions=raise_server_exceptions,
            root_path=root_path,
            client=client,
            state=self.app_state,
        )
        super().__init__(
            base_url=base_url,
            headers=headers,
            cookies=cookies,
            transport=transport,
            follow_redirects=follow_redirects,
            timeout=timeout,
        )
        self._asgi = transport

    async def __aenter__(self) -> AsyncTestClient:
        await super().__aenter__()
        error: Exception | None = None
        async with AsyncExitStack() as stack:
            stack.push_async_exit(super().__aexit__)
            lifespan = Lifespan(self.app, self.app_state)
            stack.callback(lifespan.close)
            task_group = await stack.enter_async_context(anyio.create_task_group())
            # Runs before the group exits: stops bodies the test left unread.
            stack.callback(task_group.cancel_scope.cancel)

            @stack.callback
            def forget_task_group() -> None:
                self._task_group = None

            task_group.start_soon(lifespan.run)
            try:
                await lifespan.startup()
            except Exception as exc:
                # Raised below, outside the task group, which would wrap it in a group.
                error = exc
            else:
                stack.push_async_callback(lifespan.shutdown)
                self._task_group = task_group
                self._lifespan_stack = stack.pop_all()
        if error is not None:
            raise error
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        # The test's own exception keeps propagating from its `async with` block; handing
        # it to the task group would turn it into an ExceptionGroup.
        await self._lifespan_stack.aclose()

    def websocket_connect(
        self,
        url: httpx.URL | str,
        *,
        subprotocols: Sequence[str] = (),
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> AsyncWebSocketTestSession:
        """``async with client.websocket_connect("/ws") as ws:``."""
        request = websocket_request(self, url, params=params, headers=headers)
        scope = websocket_scope(
            request,
            subprotocols=subprotocols,
            root_path=self._asgi.root_path,
            client=self._asgi.client,
            state=self.app_state,
        )
        channel = WebSocketChannel(
            self.app, scope, raise_server_exceptions=self._asgi.raise_server_exceptions
        )
        return AsyncWebSocketTestSession(channel)

    def login_as(
        self, user: str, roles: Sequence[str] = (), *, provider: LoginProvider | None = None
    ) -> LoginCredentials:
        """Authenticate the following requests as ``user`` with ``roles`` (see TestClient)."""
        return login(self, self.app, user, roles, provider)
