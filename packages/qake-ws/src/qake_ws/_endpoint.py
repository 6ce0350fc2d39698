"""``compile_websocket_route``: a WebSocket route's endpoint turned into its handle, once."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, get_type_hints

from qake_core import HandlerSignatureError, HTTPException, WebSocketRoute
from qake_core.types import Receive, Scope, Send
from qake_ws._exceptions import WebSocketDisconnect, WebSocketException
from qake_ws._limits import (
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_MESSAGES_PER_SECOND,
    check_idle_timeout,
    check_rate,
)
from qake_ws._origin import OriginPolicy, deny_handshake
from qake_ws._websocket import DEFAULT_MAX_MESSAGE_SIZE, WebSocket

__all__ = ["WebSocketHandle", "compile_websocket_route"]

logger = logging.getLogger("qake.error")

WebSocketHandle = Callable[[Scope, Receive, Send, dict[str, Any]], Awaitable[None]]

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


def _is_websocket_type(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, WebSocket)


def _plan(route: WebSocketRoute, where: str) -> tuple[str | None, list[str]]:
    """``(keyword for the WebSocket or None if positional-only, path params by keyword)``."""
    func = route.endpoint
    try:
        hints = get_type_hints(func)
    except Exception:  # unresolvable annotations: fall back to "the first parameter"
        hints = {}
    params = [
        p
        for p in inspect.signature(func).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if not params:
        raise HandlerSignatureError(
            f"{where}: the handler takes no parameter; write `async def handler(ws: WebSocket)`"
        )
    annotated = [p for p in params if _is_websocket_type(hints.get(p.name))]
    ws_param = annotated[0] if annotated else params[0]
    path_names = set(route.routing.params)  # the template as the router parsed it
    by_name: list[str] = []
    for param in params:
        if param is ws_param:
            continue
        if param.name in path_names:
            if param.kind is param.POSITIONAL_ONLY:
                raise HandlerSignatureError(
                    f"{where}: path parameter {param.name!r} is positional-only; drop the '/'"
                )
            by_name.append(param.name)
        elif param.default is param.empty:
            raise HandlerSignatureError(
                f"{where}: parameter {param.name!r} is neither the WebSocket nor a path "
                f"parameter of {route.path!r}; give it a default or add "
                f"{{{param.name}}} to the path"
            )
    keyword = None if ws_param.kind is ws_param.POSITIONAL_ONLY else ws_param.name
    return keyword, by_name


async def _close_quietly(websocket: WebSocket, code: int, reason: str = "") -> None:
    try:
        await websocket.close(code, reason.encode()[:120].decode("utf-8", "ignore"))
    except (OSError, RuntimeError, ValueError, WebSocketDisconnect):
        pass  # the connection is already gone; nothing left to tell the client


def compile_websocket_route(route: WebSocketRoute, app: Any) -> WebSocketHandle:
    """Build ``handle(scope, receive, send, path_params)`` for ``route`` (the App's
    ``websocket_compiler``): the signature is inspected here, never per connection.

    The endpoint gets the :class:`WebSocket` (the parameter annotated ``WebSocket``, or
    the first one) and path parameters it names as keyword arguments. A handshake from a
    disallowed ``Origin`` is refused (HTTP 403) before the endpoint runs. A
    :class:`WebSocketDisconnect` escaping it ends the connection cleanly; a
    :class:`WebSocketException` closes with its code; an
    :class:`HTTPException` closes with 1008 (before ``accept()``: the handshake is
    refused, HTTP 403); any other error is logged and closes with 1011.
    """
    func = route.endpoint
    where = f"websocket route {route.path!r} (handler {getattr(func, '__qualname__', func)!r})"
    if not inspect.iscoroutinefunction(func):
        raise HandlerSignatureError(f"{where}: a WebSocket handler must be an `async def`")
    if route.dependencies:
        # NOTE: refusing beats silently skipping an auth dependency on a WebSocket.
        raise HandlerSignatureError(
            f"{where}: dependencies on WebSocket routes are not supported yet; check "
            "credentials inside the handler before `await ws.accept()`"
        )
    max_size = _max_message_size(route, app, where)
    rate = check_rate(
        _option(route, app, "max_messages_per_second", DEFAULT_MAX_MESSAGES_PER_SECOND), where
    )
    idle = check_idle_timeout(_option(route, app, "idle_timeout", DEFAULT_IDLE_TIMEOUT), where)
    origins = _origin_policy(route, app, where)
    ws_keyword, path_names = _plan(route, where)

    async def handle(scope: Scope, receive: Receive, send: Send, params: dict[str, Any]) -> None:
        if not origins.allows(scope):
            await deny_handshake(scope, receive, send, "cross-origin WebSocket handshake refused")
            return
        websocket = WebSocket(
            scope,
            receive,
            send,
            params,
            max_message_size=max_size,
            max_messages_per_second=rate,
            idle_timeout=idle,
        )
        kwargs = {name: params[name] for name in path_names}
        try:
            if ws_keyword is None:
                await func(websocket, **kwargs)
            else:
                kwargs[ws_keyword] = websocket
                await func(**kwargs)
        except WebSocketDisconnect as exc:
            code = 1000 if exc.code in _UNSENDABLE else exc.code
            await _close_quietly(websocket, code, exc.reason)
            return
        except WebSocketException as exc:
            await _close_quietly(websocket, exc.code, exc.reason)
            return
        except HTTPException as exc:
            await _close_quietly(websocket, _POLICY_VIOLATION, str(exc.detail or ""))
            return
        except Exception as exc:
            logger.error("unhandled error in WebSocket %s", scope.get("path"), exc_info=exc)
            await _close_quietly(websocket, _INTERNAL_ERROR)
            return
        # A handler that returns without closing: close normally (403 if never accepted).
        await _close_quietly(websocket, 1000)

    return handle
