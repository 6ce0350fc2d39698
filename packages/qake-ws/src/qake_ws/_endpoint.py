"""``compile_websocket_route``: a WebSocket route's endpoint turned into its handle, once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from qake_core import (
    DENIAL_EXTENSION,
    HandlerSignatureError,
    HTTPException,
    Response,
    WebSocketRoute,
    problem_response,
    response_for_http_exception,
)
from qake_core.types import Receive, Scope, Send
from qake_ws._class_endpoint import WebSocketEndpoint, class_runner
from qake_ws._exceptions import WebSocketDisconnect, WebSocketException
from qake_ws._limits import (
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_MESSAGES_PER_SECOND,
    check_idle_timeout,
    check_rate,
)
from qake_ws._models import check_policy
from qake_ws._origin import OriginPolicy
from qake_ws._state import WebSocketState
from qake_ws._websocket import DEFAULT_MAX_MESSAGE_SIZE, WebSocket

__all__ = ["WebSocketHandle", "compile_websocket_route"]

logger = logging.getLogger("qake.error")

WebSocketHandle = Callable[[Scope, Receive, Send, dict[str, Any]], Awaitable[None]]
Runner = Callable[[WebSocket, dict[str, Any]], Awaitable[None]]
Call = Callable[[WebSocket], Awaitable[None]]

_POLICY_VIOLATION = 1008
_INTERNAL_ERROR = 1011
# Codes reserved by RFC 6455 for reporting: they must never be sent in a close frame.
_UNSENDABLE = frozenset({1005, 1006, 1015})


def _max_message_size(route: WebSocketRoute, app: Any, where: str) -> int | None:
    default = getattr(app, "websocket_max_message_size", DEFAULT_MAX_MESSAGE_SIZE)
    size = route.meta.get("max_message_size", default)
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size <= 0):
        raise ValueError(f"{where}: max_message_size must be a positive int or None, got {size!r}")
    return size


def _option(route: WebSocketRoute, app: Any, name: str, default: Any) -> Any:
    """The route's ``name`` option, else the app's ``websocket_<name>``, else ``default``."""
    if name in route.meta:
        return route.meta[name]
    return getattr(app, f"websocket_{name}", default)


def _origin_policy(route: WebSocketRoute, app: Any, where: str) -> OriginPolicy:
    allowed = _option(route, app, "allowed_origins", None)
    return OriginPolicy(() if allowed is None else allowed, where=f"{where}: allowed_origins")


async def _close_quietly(websocket: WebSocket, code: int, reason: str = "") -> None:
    try:
        await websocket.close(code, reason.encode()[:120].decode("utf-8", "ignore"))
    except (OSError, RuntimeError, ValueError, WebSocketDisconnect):
        pass  # the connection is already gone; nothing left to tell the client


def _function_runner(func: Callable[..., Any]) -> Runner:
    async def run(websocket: WebSocket, kwargs: dict[str, Any]) -> None:
        await func(**kwargs)

    return run


def _chain(
    endpoint: Runner, plan: Any, hooks: list[Callable[..., Any]]
) -> Callable[[WebSocket], Awaitable[None]]:
    """The hook chain around the route: hooks (first outermost), then the arguments'
    resolution (dependencies), then the endpoint."""

    async def endpoint_call(websocket: WebSocket) -> None:
        await endpoint(websocket, await plan.arguments(websocket))

    call: Call = endpoint_call
    for hook in reversed(hooks):
        call = _link(hook, call)
    return call


def _link(hook: Callable[..., Any], call_next: Call) -> Call:
    async def call(websocket: WebSocket) -> None:
        await hook(websocket, call_next)

    return call


async def _end(websocket: WebSocket, exc: BaseException | None, path: str) -> None:
    """Close the connection as ``exc`` (what the handler or a dependency raised) says;
    before ``accept()``, refuse the handshake."""
    if exc is None:
        # A handler that returns without closing: close normally (403 if never accepted).
        await _close_quietly(websocket, 1000)
    elif isinstance(exc, WebSocketDisconnect):
        await _close_quietly(websocket, 1000 if exc.code in _UNSENDABLE else exc.code, exc.reason)
    elif isinstance(exc, WebSocketException):
        await _close_quietly(websocket, exc.code, exc.reason)
    elif isinstance(exc, HTTPException):
        if _can_deny(websocket):
            await _deny_quietly(websocket, response_for_http_exception(exc))
        else:
            await _close_quietly(websocket, _POLICY_VIOLATION, str(exc.detail or ""))
    else:
        logger.error("unhandled error in WebSocket %s", path, exc_info=exc)
        if _can_deny(websocket):
            detail = "The server failed to handle the request."
            await _deny_quietly(websocket, problem_response(500, detail))
        else:
            await _close_quietly(websocket, _INTERNAL_ERROR)


def _can_deny(websocket: WebSocket) -> bool:
    """Whether the handshake can still be refused with an HTTP response."""
    return websocket.application_state is WebSocketState.CONNECTING and DENIAL_EXTENSION in (
        websocket.scope.get("extensions") or {}
    )


async def _deny_quietly(websocket: WebSocket, response: Response) -> None:
    try:
        await websocket.send_denial_response(response)
    except (OSError, RuntimeError, WebSocketDisconnect):
        pass  # the client left during the handshake


def compile_websocket_route(route: WebSocketRoute, app: Any) -> WebSocketHandle:
    """Build ``handle(scope, receive, send, path_params)`` for ``route`` (the App's
    ``websocket_compiler``): signatures are read here, never per connection.

    The handler (or a class endpoint's ``on_connect``) gets the :class:`WebSocket`, its
    typed parameters and its dependencies, resolved by qake-core's plan as for an HTTP
    handler; the app's WebSocket hooks (``@app.middleware("websocket")``) wrap it. A
    handshake from a disallowed ``Origin`` is refused (HTTP 403) before anything runs.
    When the handler ends, the clean-ups of yield dependencies run (they see the
    error, if any), then the connection is closed: normally (1000) after a return; with
    the code of a :class:`WebSocketDisconnect` or :class:`WebSocketException`; an
    :class:`HTTPException` (a dependency refusing credentials, invalid parameters: 422)
    refuses the handshake with its status and problem+json before ``accept()``, and
    closes with 1008 after it; any other error is logged and closes with 1011 (500
    before ``accept()``).
    """
    func = route.endpoint
    where = f"websocket route {route.path!r} (handler {getattr(func, '__qualname__', func)!r})"
    max_size = _max_message_size(route, app, where)
    rate = check_rate(
        _option(route, app, "max_messages_per_second", DEFAULT_MAX_MESSAGES_PER_SECOND), where
    )
    idle = check_idle_timeout(_option(route, app, "idle_timeout", DEFAULT_IDLE_TIMEOUT), where)
    invalid = check_policy(_option(route, app, "invalid_message", "close"), where)
    origins = _origin_policy(route, app, where)
    plan = app.compile_connection(route)
    runner: Runner | None = None
    if isinstance(func, type):
        if not issubclass(func, WebSocketEndpoint):
            raise HandlerSignatureError(
                f"{where}: a class endpoint must subclass qake_ws.WebSocketEndpoint"
            )
        runner = class_runner(func, where)
    hooks = list(getattr(app, "websocket_hooks", ()))
    # PERF: a function handler without hooks is awaited from handle() itself: every
    # message the handler waits for resumes the frames above it.
    call = _chain(runner or _function_runner(func), plan, hooks) if runner or hooks else None
    arguments, finish = plan.arguments, plan.finish
    handler: Callable[..., Awaitable[None]] = route.endpoint

    async def handle(scope: Scope, receive: Receive, send: Send, params: dict[str, Any]) -> None:
        websocket = WebSocket(
            scope,
            receive,
            send,
            params,
            max_message_size=max_size,
            max_messages_per_second=rate,
            idle_timeout=idle,
            invalid_message=invalid,
        )
        if not origins.allows(scope):
            detail = "cross-origin WebSocket handshake refused"
            await _deny_quietly(websocket, problem_response(403, detail))
            return
        error: Exception | None = None
        try:
            if call is None:
                await handler(**await arguments(websocket))
            else:
                await call(websocket)
        except Exception as exc:
            error = exc
        ended: BaseException | None = error
        if websocket.cleanups:
            ended = await finish(websocket, error)
        await _end(websocket, ended, scope.get("path", ""))

    return handle
