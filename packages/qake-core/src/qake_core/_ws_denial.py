"""Refusing a WebSocket handshake with an HTTP response (the ASGI
``websocket.http.response`` extension), or with a close where the server lacks it."""

from __future__ import annotations

from qake_core._responses import Response
from qake_core.types import Receive, Scope, Send

__all__ = ["DENIAL_EXTENSION", "deny_websocket", "send_denial"]

#: The ASGI extension that lets an app answer a handshake with an HTTP response.
DENIAL_EXTENSION = "websocket.http.response"


async def send_denial(scope: Scope, send: Send, response: Response, close_code: int) -> None:
    """Answer a handshake whose ``websocket.connect`` was received with ``response``
    (status, headers, body) when the server has the extension, else close it with
    ``close_code`` (RFC 6455 §7.4.1; the client then sees HTTP 403)."""
    if DENIAL_EXTENSION in (scope.get("extensions") or {}):
        start = {"status": response.status_code, "headers": response.raw_headers}
        await send({"type": "websocket.http.response.start", **start})
        await send({"type": "websocket.http.response.body", "body": response.body})
        return
    await send({"type": "websocket.close", "code": close_code, "reason": ""})


async def deny_websocket(
    scope: Scope, receive: Receive, send: Send, response: Response, close_code: int = 1008
) -> None:
    """Refuse a handshake nothing has read yet (from middleware or the dispatcher):
    receive its ``websocket.connect``, then :func:`send_denial`."""
    if (await receive())["type"] != "websocket.connect":
        return  # the client left already
    await send_denial(scope, send, response, close_code)
