"""Litestar: low-level ``@websocket`` handlers; broadcast as a set of sockets and a loop."""

from __future__ import annotations

from litestar import Litestar, WebSocket, websocket

subscribers: set[WebSocket] = set()


@websocket("/echo")
async def echo(socket: WebSocket) -> None:
    await socket.accept()
    async for text in socket.iter_data(mode="text"):
        await socket.send_text(text)


@websocket("/sub")
async def sub(socket: WebSocket) -> None:
    await socket.accept()
    subscribers.add(socket)
    try:
        async for _ in socket.iter_data(mode="text"):
            pass
    finally:
        subscribers.discard(socket)


@websocket("/pub")
async def pub(socket: WebSocket) -> None:
    await socket.accept()
    async for text in socket.iter_data(mode="text"):
        for subscriber in list(subscribers):
            await subscriber.send_text(text)


app = Litestar(route_handlers=[echo, sub, pub])
