"""The app of the fault-injection tests: one small QakeAPI per middleware layer, each
under its own path prefix (``/gzip/...``, ``/cors/...``), served together.

Every sub-app's stack is ``<the layer under test> → FaultInjector → routes``. A request
names its fault by its last path segment and carries ``x-fault-id`` (a nonce the
exception message repeats, so the test finds that error in the server's log):

* ``mw-before``: the middleware just inside the layer raises before any response;
* ``mw-after``: it raises once the response has started (after the first body chunk);
* ``handler-before``: the handler raises;
* ``handler-after``: the handler's streamed body raises after its first chunk;
* ``ok``: no fault (the sub-app still serves after the others).

``/user/...`` has no built-in layer: the user's own pure ASGI middleware raises, and
``/hook/...`` an ``@app.middleware("http")`` hook raises before or after ``call_next``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from qake_core import (
    AccessLogMiddleware,
    CacheOptions,
    GZipMiddleware,
    Middleware,
    ProxyHeadersMiddleware,
    Request,
    RequestIDMiddleware,
    Response,
    ServerErrorMiddleware,
    StreamingResponse,
    TrustedHostMiddleware,
)
from qake_core.types import ASGIApp, Message, Receive, Scope, Send
from qake_security import (
    CORSMiddleware,
    CSRFMiddleware,
    HTTPSRedirectMiddleware,
    JWTAuth,
    JWTAuthMiddleware,
    RateLimitMiddleware,
    SecurityHeadersMiddleware,
    SessionAuthMiddleware,
    SessionMiddleware,
)
from qakeapi import QakeAPI

SECRET = "a fault-injection secret of more than 32 bytes"


def log_access() -> None:
    """The access log's records reach the server's output (INFO), so its layer runs
    (at the server's startup: the tests import this module for ``LAYERS``)."""
    access = logging.getLogger("qake.access")
    access.setLevel(logging.INFO)
    access.addHandler(logging.StreamHandler())


def fault_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-fault-id":
            return value.decode("latin-1")
    return "-"


def fault_of(scope: Scope) -> str:
    return str(scope["path"]).rsplit("/", 1)[-1]


class FaultInjector:
    """Pure ASGI middleware raising before the response, or once it has started."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fault = fault_of(scope)
        if fault == "mw-before":
            raise RuntimeError(f"injected fault {fault_id(scope)}")
        if fault != "mw-after":
            await self.app(scope, receive, send)
            return

        async def send_then_fail(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body":
                raise RuntimeError(f"injected fault {fault_id(scope)}")

        await self.app(scope, receive, send_then_fail)


class UserMiddleware:
    """A user's pure ASGI middleware that itself raises (before or after the start)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fault = fault_of(scope)
        if fault == "mw-before":
            raise RuntimeError(f"injected fault {fault_id(scope)}")

        async def send_then_fail(message: Message) -> None:
            await send(message)
            if fault == "mw-after" and message["type"] == "http.response.body":
                raise RuntimeError(f"injected fault {fault_id(scope)}")

        await self.app(scope, receive, send_then_fail)


async def _chunks(request: Request) -> AsyncIterator[bytes]:
    yield b"first chunk;"
    raise RuntimeError(f"injected fault {fault_id(request.scope)}")


def _routes(app: QakeAPI, **options: Any) -> None:
    @app.get("/{fault}", **options)
    async def endpoint(fault: str, request: Request) -> Response:
        if fault == "handler-before":
            raise RuntimeError(f"injected fault {fault_id(request.scope)}")
        if fault == "handler-after":
            return StreamingResponse(_chunks(request), media_type="text/plain")
        # A body large enough for GZip, streamed in two chunks so "mw-after" can cut it.
        return StreamingResponse(_two_chunks(), media_type="text/plain")


async def _two_chunks() -> AsyncIterator[bytes]:
    yield b"a" * 2048
    yield b"b" * 2048


def _sub_app(
    layers: list[Middleware],
    *,
    inject: bool = True,
    route: dict[str, Any] | None = None,
    **options: Any,
) -> QakeAPI:
    injector = [Middleware(FaultInjector)] if inject else []
    sub = QakeAPI(
        middleware=[*layers, *injector],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        **options,
    )
    _routes(sub, **(route or {}))
    return sub


def _hook_app() -> QakeAPI:
    sub = QakeAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @sub.middleware("http")
    async def failing_hook(request: Request, call_next: Callable[..., Any]) -> Response:
        fault = fault_of(request.scope)
        if fault == "mw-before":
            raise RuntimeError(f"injected fault {fault_id(request.scope)}")
        response: Response = await call_next(request)
        if fault == "mw-after":  # after call_next: the response has not been sent yet
            raise RuntimeError(f"injected fault {fault_id(request.scope)}")
        return response

    _routes(sub)
    return sub


jwt = JWTAuth(SECRET, algorithms=["HS256"])
session = {"secret_keys": [SECRET], "https_only": False}

#: prefix → the sub-app whose stack holds that layer.
LAYERS: dict[str, QakeAPI] = {
    "access-log": _sub_app([Middleware(AccessLogMiddleware)]),
    "gzip": _sub_app([Middleware(GZipMiddleware, minimum_size=16)]),
    "proxy-headers": _sub_app([Middleware(ProxyHeadersMiddleware, ["127.0.0.1"])]),
    "request-id": _sub_app([Middleware(RequestIDMiddleware)]),
    "server-error": _sub_app([Middleware(ServerErrorMiddleware)]),
    "trusted-host": _sub_app([Middleware(TrustedHostMiddleware, ["127.0.0.1"])]),
    "cors": _sub_app([Middleware(CORSMiddleware, allow_origins=["http://a.example"])]),
    "csrf": _sub_app([Middleware(CSRFMiddleware, secret_keys=[SECRET], https_only=False)]),
    # Plain HTTP from a trusted proxy that terminated TLS: the redirect lets it through.
    "https-redirect": _sub_app(
        [Middleware(HTTPSRedirectMiddleware)], trusted_proxies=["127.0.0.1"]
    ),
    "jwt": _sub_app([Middleware(JWTAuthMiddleware, jwt)]),
    "rate-limit": _sub_app([Middleware(RateLimitMiddleware, limit="100000/minute")]),
    "security-headers": _sub_app([Middleware(SecurityHeadersMiddleware)]),
    "session": _sub_app([Middleware(SessionMiddleware, **session)]),
    "session-auth": _sub_app(
        [Middleware(SessionMiddleware, **session), Middleware(SessionAuthMiddleware)]
    ),
    # qake-core's response cache, a built-in hook around the route.
    "cache": _sub_app([], route={"cache": CacheOptions(ttl=60)}),
    "user": _sub_app([Middleware(UserMiddleware)], inject=False),
    "hook": _hook_app(),
}

app = QakeAPI(docs_url=None, redoc_url=None, openapi_url=None, on_startup=[log_access])


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"pong": "yes"}


for _prefix, _sub in LAYERS.items():
    app.mount(f"/{_prefix}", _sub)
