"""A reference, not a peer (``qakeapi-set``): qakeapi with the broadcast written as the
peers write it (a set of sockets and a loop over ``send_text``) instead of
``qake_ws.MemoryBroadcast``: it prices ``forward()``'s per-subscriber queues and tasks
apart from qakeapi's ``WebSocket`` itself. ``/echo`` is ``qakeapi_app``'s."""

from __future__ import annotations

from qakeapi import QakeAPI, WebSocket

app = QakeAPI()
subscribers: set[WebSocket] = set()


@app.websocket("/echo", max_messages_per_second=None)
async def echo(ws: WebSocket) -> None:
    await ws.accept()
    async for text in ws.iter_text():
        await ws.send_text(text)


@app.websocket("/sub")
async def sub(ws: WebSocket) -> None:
    await ws.accept()
    subscribers.add(ws)
    try:
        async for _ in ws.iter_text():
            pass
    finally:
        subscribers.discard(ws)


@app.websocket("/pub", max_messages_per_second=None)
async def pub(ws: WebSocket) -> None:
    await ws.accept()
    async for text in ws.iter_text():
        for subscriber in list(subscribers):
            await subscriber.send_text(text)
