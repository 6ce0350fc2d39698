"""qakeapi: ``@app.websocket`` routes, and ``qake_ws.MemoryBroadcast`` for ``/sub``.

``/echo`` and ``/pub`` turn the per-connection rate limit off
(``max_messages_per_second=None``): the default (100 messages per second) would close
a benchmark client with 1008 within its first second.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from qake_ws import MemoryBroadcast
from qakeapi import QakeAPI, WebSocket

CHANNEL = "bench"
broadcast = MemoryBroadcast()


@asynccontextmanager
async def lifespan(app: QakeAPI) -> AsyncIterator[None]:
    async with broadcast:
        yield


app = QakeAPI(lifespan=lifespan)


@app.websocket("/echo", max_messages_per_second=None)
async def echo(ws: WebSocket) -> None:
    await ws.accept()
    async for text in ws.iter_text():
        await ws.send_text(text)


@app.websocket("/sub")
async def sub(ws: WebSocket) -> None:
    await ws.accept()
    await broadcast.forward(CHANNEL, ws)


@app.websocket("/pub", max_messages_per_second=None)
async def pub(ws: WebSocket) -> None:
    await ws.accept()
    async for text in ws.iter_text():
        await broadcast.publish(CHANNEL, text)
