"""WebSockets under a real uvicorn (``qake run``), driven by the ``websockets`` client.

Issue 15: echo, subprotocol choice, a refused handshake, the Origin check, the size and
rate limits, invalid UTF-8, clean-up (the handler's and its yield dependencies') after an
abrupt disconnect, and a slow broadcast subscriber dropped while the others keep up.
Handshake auth is in test_ws_e2e_auth.py, the Redis broadcast across two workers in
test_ws_e2e_redis.py.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from qake_server import Server, qake_run
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin, Subprotocol

pytestmark = pytest.mark.e2e

APP = "tests.e2e.ws_app:app"
TIMEOUT = 3.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("ws") / "server.log"
    with qake_run(APP, log=log, ready="/ok") as running:
        yield running
    output = running.output()
    # bad input is a close code, never a crash (uvicorn itself logs the invalid UTF-8)
    assert "Exception in ASGI application" not in output, output


def _ws(server: Server, path: str) -> str:
    return f"ws://127.0.0.1:{server.port}{path}"


async def _closed_with(ws: ClientConnection) -> int | None:
    """Read until the server closes; the close code it sent."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(TIMEOUT):
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code


def test_echo_text_and_bytes(server: Server) -> None:
    async def main() -> None:
        async with asyncio.timeout(TIMEOUT), connect(_ws(server, "/echo")) as ws:
            await ws.send("héllo")
            assert await ws.recv() == "héllo"
            await ws.send(b"\x00\xffbin")
            assert await ws.recv() == b"\x00\xffbin"

    asyncio.run(main())


def test_subprotocol_chosen_by_the_app(server: Server) -> None:
    async def main() -> None:
        async with asyncio.timeout(TIMEOUT):
            async with connect(
                _ws(server, "/proto"), subprotocols=[Subprotocol("chat.v1"), Subprotocol("chat.v2")]
            ) as ws:
                assert ws.subprotocol == "chat.v2"
                assert await ws.recv() == "chat.v2"
            async with connect(_ws(server, "/proto"), subprotocols=[Subprotocol("chat.v1")]) as ws:
                assert ws.subprotocol is None
                assert await ws.recv() == ""

    asyncio.run(main())


def test_close_before_accept_refuses_the_handshake_with_403(server: Server) -> None:
    async def main() -> None:
        with pytest.raises(InvalidStatus) as refused:
            async with asyncio.timeout(TIMEOUT), connect(_ws(server, "/deny")):
                pass
        assert refused.value.response.status_code == 403

    asyncio.run(main())


def test_cross_site_origin_refused_same_origin_and_none_accepted(server: Server) -> None:
    async def main() -> None:
        async with asyncio.timeout(TIMEOUT):
            with pytest.raises(InvalidStatus) as refused:
                async with connect(_ws(server, "/echo"), origin=Origin("http://evil.example")):
                    pass
            assert refused.value.response.status_code == 403
            own = Origin(f"http://127.0.0.1:{server.port}")
            async with connect(_ws(server, "/echo"), origin=own) as ws:
                await ws.send("same origin")
                assert await ws.recv() == "same origin"
            async with connect(_ws(server, "/echo")) as ws:
                await ws.send("no origin")
                assert await ws.recv() == "no origin"

    asyncio.run(main())


def test_oversize_message_closes_1009(server: Server) -> None:
    async def main() -> None:
        async with asyncio.timeout(TIMEOUT), connect(_ws(server, "/small")) as ws:
            await ws.send("x" * 1024)
            assert await ws.recv() == "got 1024"
            await ws.send("x" * 1025)
            assert await _closed_with(ws) == 1009

    asyncio.run(main())


def test_message_flood_closes_1008(server: Server) -> None:
    async def main() -> None:
        async with asyncio.timeout(TIMEOUT), connect(_ws(server, "/slow")) as ws:
            for i in range(40):
                try:
                    await ws.send(str(i))
                except ConnectionClosed:
                    break
            assert await _closed_with(ws) == 1008

    asyncio.run(main())


def test_invalid_utf8_in_a_text_frame_closes_1007(server: Server) -> None:
    async def main() -> None:
        async with asyncio.timeout(TIMEOUT), connect(_ws(server, "/echo")) as ws:
            await ws.send("valid")
            assert await ws.recv() == "valid"
            # bytes sent as they are in a text frame: the client does not check them
            await ws.send(b"bad \xff\xfe utf-8", text=True)
            assert await _closed_with(ws) == 1007

    asyncio.run(main())


def _tracked(server: Server, key: str) -> dict[str, object]:
    r = httpx.get(f"{server.base}/tracked/{key}", timeout=TIMEOUT)
    assert r.status_code == 200
    body: dict[str, object] = r.json()
    return body


def test_abrupt_disconnect_runs_the_cleanups_and_leaves_no_task(server: Server) -> None:
    key = uuid.uuid4().hex
    baseline = _tracked(server, "none")["tasks"]
    assert isinstance(baseline, int)

    async def main() -> None:
        async with asyncio.timeout(TIMEOUT):
            ws = await connect(_ws(server, f"/tracked/{key}"))
            assert await ws.recv() == "ready"
            seen = await asyncio.to_thread(_tracked, server, key)
            assert seen["state"] == "open"
            assert seen["resources"] == {"async": "held", "sync": "held"}
            ws.transport.abort()  # the TCP connection drops, no close frame
            await ws.wait_closed()

    asyncio.run(main())
    deadline = time.monotonic() + TIMEOUT
    while True:
        seen = _tracked(server, key)
        released = {"async": "released", "sync": "released"}
        ended = (seen["state"], seen["resources"], seen["task_done"]) == ("cleaned", released, True)
        if ended and seen["tasks"] == baseline:
            break
        assert time.monotonic() < deadline, f"no clean-up after the disconnect: {seen}"
        time.sleep(0.05)


def test_a_slow_subscriber_is_dropped_while_the_others_keep_receiving(server: Server) -> None:
    """Two subscribers of one room (queues of 8): ``slow`` stops reading, so its TCP
    buffers fill and the server's sends to it wait; ``fast`` publishes and reads one
    message at a time until a message reports the room down to one subscriber."""
    url = _ws(server, f"/room/{uuid.uuid4().hex}?pad=16384")

    async def main() -> None:
        async with asyncio.timeout(5):
            slow = await connect(url, compression=None)
            await slow.send("0")
            assert json.loads(await slow.recv())["n"] == 0  # subscribed; reads no more
            async with connect(url, compression=None) as fast:
                n = 0
                while True:
                    n += 1
                    assert n < 2000, "the slow subscriber was never dropped"
                    await fast.send(str(n))
                    message = json.loads(await fast.recv())
                    assert message["n"] == n  # every message, in order, never stalled
                    if message["subscribers"] == 1:
                        break  # an earlier message dropped the slow one
            # Reading again, it gets what had reached it, then the close.
            received: list[int] = []
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    received.append(json.loads(await slow.recv())["n"])
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
                1013,
                "subscriber too slow",
            )
            assert received == list(range(1, len(received) + 1))
            assert len(received) < n - 1

    asyncio.run(main())
