"""WebSocket routes for tests/e2e/test_ws_e2e.py under a real uvicorn: echo, a chosen
subprotocol, a refused handshake, tight size and rate limits, a handler with yield
dependencies whose clean-ups an HTTP route reports, a room on a ``MemoryBroadcast`` with
short queues (``/room``), and a Redis broadcast across workers (``/news``).

The Redis broadcast's key prefix comes from ``QAKE_WS_E2E_PREFIX`` (unique per test)
and its server from ``QAKE_WS_E2E_REDIS_URL`` (default the local 6379); without a
prefix the app starts no Redis broadcast.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Annotated

from qake_ws import BroadcastUnavailable, MemoryBroadcast, RedisBroadcast
from qakeapi import Depends, HTTPException, QakeAPI, WebSocket

__all__ = ["app"]

REDIS_URL = os.environ.get("QAKE_WS_E2E_REDIS_URL", "redis://127.0.0.1:6379/0")
PREFIX = os.environ.get("QAKE_WS_E2E_PREFIX")
broadcast = RedisBroadcast(REDIS_URL, prefix=PREFIX) if PREFIX else None

#: ``/room/{name}``: a subscriber more than 8 messages behind is dropped (close 1013).
rooms = MemoryBroadcast(max_queue=8)

#: ``/tracked/{key}`` handlers: "open" while running, "cleaned" once ``finally`` ran.
STATES: dict[str, str] = {}
#: The task each ``/tracked/{key}`` handler ran in.
TASKS: dict[str, asyncio.Task[object]] = {}
#: ``/tracked/{key}``'s yield dependencies: "held" until their exit code ran.
RESOURCES: dict[str, dict[str, str]] = {}


@asynccontextmanager
async def lifespan(_app: QakeAPI) -> AsyncIterator[None]:
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(rooms)
        if broadcast is not None:
            await stack.enter_async_context(broadcast)
        yield


app = QakeAPI(lifespan=lifespan)


@app.get("/ok")
async def ok() -> dict[str, int]:
    return {"pid": os.getpid()}


@app.websocket("/echo")
async def echo(ws: WebSocket) -> None:
    """Each text frame back as text, each binary frame back as binary."""
    await ws.accept()
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await ws.send_text(message["text"])
        else:
            await ws.send_bytes(message["bytes"])


@app.websocket("/proto")
async def proto(ws: WebSocket) -> None:
    """Picks ``chat.v2`` when offered, else none; tells the client what it chose."""
    chosen = "chat.v2" if "chat.v2" in ws.subprotocols else None
    await ws.accept(subprotocol=chosen)
    await ws.send_text(chosen or "")


@app.websocket("/deny")
async def deny(ws: WebSocket) -> None:
    """Closes before accepting: the handshake is refused."""
    await ws.close()


@app.websocket("/small", max_message_size=1024)
async def small(ws: WebSocket) -> None:
    await ws.accept()
    async for text in ws.iter_text():
        await ws.send_text(f"got {len(text)}")


@app.websocket("/slow", max_messages_per_second=5)
async def slow(ws: WebSocket) -> None:
    await ws.accept()
    async for text in ws.iter_text():
        await ws.send_text(text)


async def async_resource(key: str) -> AsyncIterator[str]:
    """A yield dependency (async): "held" until the socket ends, then "released"."""
    held = RESOURCES.setdefault(key, {})
    held["async"] = "held"
    try:
        yield key
    finally:
        held["async"] = "released"


def sync_resource(key: str) -> Iterator[str]:
    """A yield dependency (sync, run in a thread): the same records."""
    held = RESOURCES.setdefault(key, {})
    held["sync"] = "held"
    try:
        yield key
    finally:
        held["sync"] = "released"


@app.websocket("/tracked/{key}")
async def tracked(
    ws: WebSocket,
    key: str,
    _async: Annotated[str, Depends(async_resource)],
    _sync: Annotated[str, Depends(sync_resource)],
) -> None:
    """Records its task and, in ``finally``, that its clean-up ran."""
    task = asyncio.current_task()
    assert task is not None
    TASKS[key] = task
    STATES[key] = "open"
    try:
        await ws.accept()
        await ws.send_text("ready")
        async for text in ws.iter_text():
            await ws.send_text(text)
    finally:
        STATES[key] = "cleaned"


@app.get("/tracked/{key}")
async def tracked_state(key: str) -> dict[str, object]:
    """The handler's state, its dependencies', whether its task finished, and this
    process's task count."""
    task = TASKS.get(key)
    return {
        "state": STATES.get(key),
        "resources": RESOURCES.get(key, {}),
        "task_done": task is not None and task.done(),
        "tasks": len(asyncio.all_tasks()),
    }


@app.websocket("/room/{name}", max_messages_per_second=None)
async def room(ws: WebSocket, name: str, pad: int = 0) -> None:
    """Every message of room ``name``; a client's text ``n`` publishes to the room
    ``{"n": n, "subscribers": <count before this message>, "pad": <pad "x">}``."""
    await ws.accept()

    async def publish(message: str | bytes) -> None:
        n = int(message)
        count = rooms.subscriber_count(name)
        await rooms.publish(name, {"n": n, "subscribers": count, "pad": "x" * pad})

    await rooms.forward(name, ws, on_receive=publish)


@app.websocket("/news")
async def news(ws: WebSocket) -> None:
    """Every message of the ``news`` channel; any client message is answered with this
    worker's pid (answered once the subscription is in place)."""
    assert broadcast is not None, "QAKE_WS_E2E_PREFIX is not set"
    await ws.accept()

    async def answer_pid(_message: str | bytes) -> None:
        await ws.send_json({"pid": os.getpid()})

    await broadcast.forward("news", ws, on_receive=answer_pid)


@app.post("/news")
async def publish_news(headline: str = "hello workers") -> dict[str, int]:
    """Publishes ``headline`` to ``news``; 503 while Redis is unreachable."""
    assert broadcast is not None, "QAKE_WS_E2E_PREFIX is not set"
    try:
        await broadcast.publish("news", {"headline": headline, "from": os.getpid()})
    except BroadcastUnavailable:
        raise HTTPException(503, "Redis is unreachable") from None
    return {"pid": os.getpid()}
