"""Refusing a WebSocket handshake from middleware, before the app ever sees it."""

from __future__ import annotations

from qake_core import Response
from qake_core.types import Receive, Scope, Send

__all__ = ["deny_websocket"]

#: The ASGI extension that lets an app answer a handshake with an HTTP response.
DENIAL_EXTENSION = "websocket.http.response"


async def deny_websocket(
    scope: Scope, receive: Receive, send: Send, response: Response, close_code: int
) -> None:
    """Answer the handshake with ``response`` (its status, headers and body) when the
    server has the ``websocket.http.response`` extension, else close it with
    ``close_code`` (RFC 6455 section 7.4.1; the client then sees HTTP 403)."""
    if (await receive())["type"] != "websocket.connect":
        return  # the client left already
    if DENIAL_EXTENSION in (scope.get("extensions") or {}):
        start = {"status": response.status_code, "headers": response.raw_headers}
        await send({"type": "websocket.http.response.start", **start})
        await send({"type": "websocket.http.response.body", "body": response.body})
        return
    await send({"type": "websocket.close", "code": close_code, "reason": ""})
