"""``TestClient``: a sync httpx client that calls an ASGI app in-process."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, nullcontext
from types import TracebackType
from typing import Any, Literal

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal

from ._handshake import login, websocket_request
from ._lifespan import Lifespan
from ._login import LoginCredentials, LoginProvider
from ._scope import websocket_scope
from ._transport import ASGITransport
from ._types import Address, ASGIApp
from ._websocket import WebSocketTestSession
from ._ws_channel import WebSocketChannel

Backend = Literal["asyncio", "trio"]


class TestClient(httpx.Client):
    """Call an ASGI app from a sync test; responses are :class:`httpx.Response`.

    Without ``with`` each request runs in a short-lived event loop and the app's lifespan
    is **not** run. ``with TestClient(app) as client:`` runs startup once on entry and
    shutdown once on exit (raising if startup fails), and keeps one event loop for all the
    requests in the block, so the app may hold loop-bound resources between requests.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        *,
        raise_server_exceptions: bool = True,
        root_path: str = "",
        backend: Backend = "asyncio",
        backend_options: Mapping[str, Any] | None = None,
        client: Address = ("testclient", 50000),
        headers: Mapping[str, str] | None = None,
        cookies: httpx.Cookies | dict[str, str] | None = None,
        follow_redirects: bool = True,
        timeout: float | None = None,
    ) -> None:
        self.app = app
        self.backend = backend
        self.backend_options = dict(backend_options or {})
        #: The lifespan state; each request's ``scope["state"]`` is a shallow copy of it.
        self.app_state: dict[str, Any] = {}
        self._portal: BlockingPortal | None = None
        self._lifespan_stack = ExitStack()
        transport = ASGITransport(
            app,
            portal_factory=self._portal_factory,
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

    def _portal_factory(self) -> AbstractContextManager[BlockingPortal]:
        if self._portal is not None:
            return nullcontext(self._portal)
        return start_blocking_portal(self.backend, self.backend_options)

    def __enter__(self) -> TestClient:
        super().__enter__()
        with ExitStack() as stack:
            stack.push(super().__exit__)
            lifespan = Lifespan(self.app, self.app_state)
            stack.callback(lifespan.close)  # after the portal (and the app's task) is gone
            self._portal = portal = stack.enter_context(self._portal_factory())

            @stack.callback
            def forget_portal() -> None:
                self._portal = None

            portal.start_task_soon(lifespan.run)
            portal.call(lifespan.startup)
            stack.callback(portal.call, lifespan.shutdown)
            self._lifespan_stack = stack.pop_all()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        self._lifespan_stack.__exit__(exc_type, exc_value, traceback)

    def websocket_connect(
        self,
        url: httpx.URL | str,
        *,
        subprotocols: Sequence[str] = (),
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> WebSocketTestSession:
        """Open a WebSocket to the app: ``with client.websocket_connect("/ws") as ws:``."""
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
        return WebSocketTestSession(channel, self._portal_factory())

    def login_as(
        self, user: str, roles: Sequence[str] = (), *, provider: LoginProvider | None = None
    ) -> LoginCredentials:
        """Authenticate the following requests as ``user`` with ``roles``.

        The credentials come from ``provider`` or the app's :class:`LoginProvider`
        (``app.login_provider`` / ``app.state.login_provider``) and are stored on the
        client's headers and cookies.
        """
        return login(self, self.app, user, roles, provider)
