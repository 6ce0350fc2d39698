"""BlackSheep: ``@ws`` routes (``receive_text`` until ``WebSocketDisconnectError``);
broadcast as a set of sockets and a loop."""

from __future__ import annotations

from blacksheep import Application, WebSocket, WebSocketDisconnectError, ws

app = Application()
subscribers: set[WebSocket] = set()


@ws("/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            text = await websocket.receive_text()
            await websocket.send_text(text)
    except WebSocketDisconnectError:
        pass


@ws("/sub")
async def sub(websocket: WebSocket) -> None:
    await websocket.accept()
    subscribers.add(websocket)
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnectError:
        pass
    finally:
        subscribers.discard(websocket)


@ws("/pub")
async def pub(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            text = await websocket.receive_text()
            for subscriber in list(subscribers):
                await subscriber.send_text(text)
    except WebSocketDisconnectError:
        pass
