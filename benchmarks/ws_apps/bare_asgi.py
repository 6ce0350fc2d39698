"""The floor: one raw ASGI callable, no framework, no checks beyond the path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_ACCEPT: Message = {"type": "websocket.accept"}
_subscribers: set[Send] = set()


async def _echo(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        await send({"type": "websocket.send", "text": message.get("text")})


async def _sub(receive: Receive, send: Send) -> None:
    _subscribers.add(send)
    try:
        while (await receive())["type"] == "websocket.receive":
            pass
    finally:
        _subscribers.discard(send)


async def _pub(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        outgoing = {"type": "websocket.send", "text": message.get("text")}
        for subscriber in tuple(_subscribers):
            await subscriber(outgoing)


_ROUTES = {"/echo": _echo, "/sub": _sub, "/pub": _pub}


async def app(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    handler = _ROUTES.get(scope["path"])
    await receive()  # websocket.connect
    if handler is None:
        await send({"type": "websocket.close", "code": 1008})
        return
    await send(_ACCEPT)
    await handler(receive, send)
