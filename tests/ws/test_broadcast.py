"""MemoryBroadcast: fan-out, isolated channels, slow subscribers dropped, WebSocket
forwarding from an HTTP route (asyncio and trio), clean unsubscribe; Presence."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Literal

import anyio
import pytest

from qake_core import App, MemoryStore
from qake_testing import TestClient
from qake_testing import WebSocketDisconnect as ClientDisconnect
from qake_ws import (
    DEFAULT_MAX_QUEUE,
    Broadcast,
    MemoryBroadcast,
    Presence,
    Subscriber,
    SubscriberDropped,
    WebSocket,
    compile_websocket_route,
)

Backend = Literal["asyncio", "trio"]
BACKENDS: list[Backend] = ["asyncio", "trio"]


def run(backend: Backend, func: Callable[[], Any]) -> None:
    anyio.run(func, backend=backend)


async def collect(subscriber: Subscriber, count: int) -> list[Any]:
    out = []
    with anyio.fail_after(5):
        async for message in subscriber:
            out.append(message)
            if len(out) == count:
                break
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_fan_out_to_every_subscriber_and_channels_are_isolated(backend: Backend) -> None:
    async def main() -> None:
        async with (
            MemoryBroadcast() as broadcast,
            broadcast.subscribe("a") as one,
            broadcast.subscribe("a") as two,
            broadcast.subscribe("b") as other,
        ):
            await broadcast.publish("a", "text")
            await broadcast.publish("a", b"\x00bytes")
            await broadcast.publish("a", {"n": [1, 2]})
            await broadcast.publish("b", "for b")
            expected = ["text", b"\x00bytes", {"n": [1, 2]}]
            assert await collect(one, 3) == expected
            assert await collect(two, 3) == expected
            assert await collect(other, 1) == ["for b"]
            assert broadcast.subscriber_count("a") == 2

    run(backend, main)


def test_json_values_are_checked_on_publish() -> None:
    async def main() -> None:
        async with MemoryBroadcast() as broadcast, broadcast.subscribe("a") as sub:
            with pytest.raises(TypeError):
                await broadcast.publish("a", object())
            # a tuple is delivered as what JSON makes of it, as over Redis
            await broadcast.publish("a", (1, "x"))
            assert await collect(sub, 1) == [[1, "x"]]

    run("asyncio", main)


@pytest.mark.parametrize("backend", BACKENDS)
def test_slow_subscriber_is_dropped_and_others_keep_receiving(backend: Backend) -> None:
    async def main() -> None:
        async with (
            MemoryBroadcast(max_queue=5) as broadcast,
            broadcast.subscribe("room") as slow,
            broadcast.subscribe("room") as fast,
        ):
            received: list[int] = []
            for i in range(20):
                await broadcast.publish("room", i)  # never waits for `slow`
                received.extend(await collect(fast, 1))
            assert received == list(range(20))
            assert slow.dropped
            assert repr(slow).endswith("queued=0>")  # its backlog was freed
            assert broadcast.subscriber_count("room") == 1
            with pytest.raises(SubscriberDropped) as info:
                await collect(slow, 1)
            assert info.value.channel == "room"

    run(backend, main)


def test_subscriptions_end_on_exit_and_on_disconnect() -> None:
    async def main() -> None:
        broadcast = MemoryBroadcast()
        with pytest.raises(RuntimeError, match="not connected"):
            await broadcast.publish("a", "x")
        await broadcast.connect()
        async with broadcast.subscribe("a"):
            assert broadcast.subscriber_count("a") == 1
        assert broadcast.subscriber_count("a") == 0
        assert broadcast._channels == {}
        async with broadcast.subscribe("a") as sub:
            await broadcast.disconnect()
            assert await collect(sub, 1) == []  # iteration ended cleanly
        assert not broadcast.connected
        assert asyncio.all_tasks() == {asyncio.current_task()}  # nothing left behind

    run("asyncio", main)


def test_max_queue_must_be_positive() -> None:
    assert MemoryBroadcast().max_queue == DEFAULT_MAX_QUEUE
    with pytest.raises(ValueError, match="max_queue"):
        MemoryBroadcast(max_queue=0)

    async def main() -> None:
        async with MemoryBroadcast() as broadcast:
            with pytest.raises(ValueError, match="max_queue"):
                async with broadcast.subscribe("a", max_queue=0):
                    pass  # pragma: no cover
            async with broadcast.subscribe("a", max_queue=1) as sub:
                broadcast.fan_out("a", 1)
                broadcast.fan_out("a", 2)  # over 1: dropped
                assert sub.dropped

    run("asyncio", main)


def chat_app(broadcast: Broadcast) -> App:
    @asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        async with broadcast:
            yield

    app = App(lifespan=lifespan)
    app.websocket_compiler = compile_websocket_route
    echoes: list[str | bytes] = []

    async def heard(data: str | bytes) -> None:
        echoes.append(data)

    @app.websocket("/rooms/{room}")
    async def room(ws: WebSocket) -> None:
        await ws.accept()
        await broadcast.forward(ws.path_params["room"], ws, on_receive=heard)

    @app.post("/rooms/{room}")
    async def say(room: str) -> dict[str, int]:
        await broadcast.publish(room, {"room": room, "text": "hello"})
        return {"subscribers": broadcast.subscriber_count(room)}

    @app.get("/heard")
    async def heard_list() -> list[str]:
        return [e if isinstance(e, str) else e.decode() for e in echoes]

    return app


@pytest.mark.parametrize("backend", BACKENDS)
def test_publish_from_an_http_route_reaches_websocket_sessions(backend: Backend) -> None:
    broadcast = MemoryBroadcast()
    with TestClient(chat_app(broadcast), backend=backend) as client:
        with (
            client.websocket_connect("/rooms/red") as alice,
            client.websocket_connect("/rooms/red") as bob,
            client.websocket_connect("/rooms/blue") as carol,
        ):
            alice.send_text("ping")  # wait until both red sockets are subscribed
            for _ in range(100):
                if broadcast.subscriber_count("red") == 2:
                    break
                client.get("/heard")
            assert client.post("/rooms/red").json() == {"subscribers": 2}
            assert alice.receive_json() == {"room": "red", "text": "hello"}
            assert bob.receive_json() == {"room": "red", "text": "hello"}
            client.post("/rooms/blue")
            assert carol.receive_json() == {"room": "blue", "text": "hello"}
            assert client.get("/heard").json() == ["ping"]
        # the sockets are gone: their subscriptions too, and no forwarding task is left
        for _ in range(100):
            if broadcast.subscriber_count("red") == broadcast.subscriber_count("blue") == 0:
                break
            client.get("/heard")
        assert broadcast._channels == {}
    assert not broadcast.connected


@pytest.mark.parametrize(("code", "backend"), [(1013, "asyncio"), (1008, "trio")])
def test_forward_closes_a_slow_socket(code: int, backend: Backend) -> None:
    broadcast = MemoryBroadcast(max_queue=2, drop_code=code)
    app = chat_app(broadcast)

    @app.post("/flood/{room}")
    async def flood(room: str) -> dict[str, int]:
        for i in range(10):  # no await between: the socket cannot keep up
            broadcast.fan_out(room, i)
        return {"subscribers": broadcast.subscriber_count(room)}

    with TestClient(app, backend=backend) as client:
        with client.websocket_connect("/rooms/r") as session:
            for _ in range(100):
                if broadcast.subscriber_count("r") == 1:
                    break
                client.get("/heard")
            assert client.post("/flood/r").json() == {"subscribers": 0}
            with pytest.raises(ClientDisconnect) as info:
                while True:
                    session.receive_json()
            assert info.value.code == code
        assert broadcast._channels == {}


@pytest.mark.parametrize("backend", BACKENDS)
def test_presence_on_a_store(backend: Backend) -> None:
    async def main() -> None:
        store = MemoryStore()
        presence = Presence(store, ttl=30)
        await presence.join("lobby", "ann")
        await presence.join("lobby", "bob")
        await presence.join("lobby", "ann")  # twice: listed once
        await presence.join("attic", "cy")
        assert await presence.members("lobby") == ["ann", "bob"]
        assert await presence.members("attic") == ["cy"]
        await presence.leave("lobby", "ann")
        await presence.leave("lobby", "nobody")
        assert await presence.members("lobby") == ["bob"]
        await presence.leave("lobby", "bob")
        assert await presence.members("lobby") == []
        assert await store.get("qake-ws:presence:lobby") is None

    run(backend, main)


def test_presence_members_expire() -> None:
    async def main() -> None:
        presence = Presence(MemoryStore(), ttl=0.05)
        await presence.join("r", "gone")
        await anyio.sleep(0.1)
        await presence.join("r", "here")
        assert await presence.members("r") == ["here"]

    run("asyncio", main)
    with pytest.raises(ValueError, match="ttl"):
        Presence(MemoryStore(), ttl=0)
