"""Starlette: ``WebSocketRoute`` endpoints; broadcast as a set of sockets and a loop."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

subscribers: set[WebSocket] = set()


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text)


async def sub(websocket: WebSocket) -> None:
    await websocket.accept()
    subscribers.add(websocket)
    try:
        async for _ in websocket.iter_text():
            pass
    finally:
        subscribers.discard(websocket)


async def pub(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        for subscriber in list(subscribers):
            await subscriber.send_text(text)


app = Starlette(
    routes=[WebSocketRoute("/echo", echo), WebSocketRoute("/sub", sub), WebSocketRoute("/pub", pub)]
)
