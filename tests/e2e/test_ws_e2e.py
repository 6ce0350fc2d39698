"""WebSockets under a real uvicorn (``qake run``), driven by the ``websockets`` client.

Issue 15: echo, subprotocol choice, a refused handshake, the Origin check, the size and
rate limits, clean-up after an abrupt disconnect, and a Redis broadcast across two
worker processes.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from qake_server import Server, qake_run
from redis_process import redis_answers
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


def _tracked(server: Server, key: str) -> dict[str, object]:
    r = httpx.get(f"{server.base}/tracked/{key}", timeout=TIMEOUT)
    assert r.status_code == 200
    body: dict[str, object] = r.json()
    return body


def test_abrupt_disconnect_runs_the_handlers_cleanup(server: Server) -> None:
    key = uuid.uuid4().hex
    baseline = _tracked(server, "none")["tasks"]
    assert isinstance(baseline, int)

    async def main() -> None:
        async with asyncio.timeout(TIMEOUT):
            ws = await connect(_ws(server, f"/tracked/{key}"))
            assert await ws.recv() == "ready"
            assert (await asyncio.to_thread(_tracked, server, key))["state"] == "open"
            ws.transport.abort()  # the TCP connection drops, no close frame
            await ws.wait_closed()

    asyncio.run(main())
    deadline = time.monotonic() + TIMEOUT
    while True:
        seen = _tracked(server, key)
        if seen["state"] == "cleaned" and seen["task_done"] and seen["tasks"] == baseline:
            break
        assert time.monotonic() < deadline, f"no clean-up after the disconnect: {seen}"
        time.sleep(0.05)


async def _pid_of(ws: ClientConnection) -> int:
    """The worker serving ``ws`` (it answers once subscribed to ``news``)."""
    await ws.send("pid?")
    answer = json.loads(await ws.recv())
    pid: int = answer["pid"]
    return pid


def _wait_for_workers(server: Server, count: int) -> None:
    """Until ``count`` different worker pids have answered ``/ok`` (one connection each)."""
    pids: set[int] = set()
    deadline = time.monotonic() + 15
    while len(pids) < count:
        assert time.monotonic() < deadline, f"only workers {pids} answered"
        pids.add(httpx.get(server.base + "/ok", timeout=TIMEOUT).json()["pid"])


@pytest.mark.redis
def test_redis_broadcast_reaches_clients_of_both_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # qakeapi installed alone has qake-ws without its redis extra (RedisBroadcast)
    pytest.importorskip("redis", reason="RedisBroadcast needs redis-py (qake-ws[redis])")
    if not redis_answers("127.0.0.1", 6379):
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    monkeypatch.setenv("QAKE_WS_E2E_PREFIX", f"qake-ws-e2e-{uuid.uuid4().hex}:")
    with qake_run(APP, "--workers", "2", log=tmp_path / "server.log", ready="/ok") as server:
        _wait_for_workers(server, 2)

        async def main() -> None:
            clients: list[ClientConnection] = []
            pids: set[int] = set()
            try:
                async with asyncio.timeout(10):
                    while len(pids) < 2 or len(clients) < 4:
                        assert len(clients) < 40, f"one worker served every client: {pids}"
                        ws = await connect(_ws(server, "/news"))
                        clients.append(ws)
                        pids.add(await _pid_of(ws))
                async with asyncio.timeout(TIMEOUT), httpx.AsyncClient() as http:
                    r = await http.post(server.base + "/news")
                    assert r.status_code == 200
                    for ws in clients:
                        message = json.loads(await ws.recv())
                        assert message["headline"] == "hello workers"
            finally:
                for ws in clients:
                    await ws.close()

        asyncio.run(main())
