"""A Redis broadcast across two uvicorn worker processes (``qake run --workers 2``),
driven by the ``websockets`` client (issue 15): a message published on either worker
reaches the clients of both, also after the Redis server is restarted mid-test (each
worker's ``RedisBroadcast`` reconnects and subscribes again; the clients stay open).

Redis is a private ``redis-server`` (``tests/testing/redis_process.py``), never the
shared one, since it is stopped mid-test.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from qake_server import Server, qake_run
from redis_process import RedisProcess, redis_process
from websockets.asyncio.client import ClientConnection, connect
from websockets.protocol import State

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

__all__ = ["redis_process"]  # the fixture, imported for the test below

APP = "tests.e2e.ws_app:app"
TIMEOUT = 3.0
#: Bound on the wait for both workers to notice Redis is back (backoff up to 2 s each).
RECOVERY = 15.0


def _ws(server: Server, path: str) -> str:
    return f"ws://127.0.0.1:{server.port}{path}"


def _wait_for_workers(server: Server, count: int) -> None:
    """Until ``count`` different worker pids have answered ``/ok`` (one connection each)."""
    pids: set[int] = set()
    deadline = time.monotonic() + 15
    while len(pids) < count:
        assert time.monotonic() < deadline, f"only workers {pids} answered"
        pids.add(httpx.get(server.base + "/ok", timeout=TIMEOUT).json()["pid"])


async def _pid_of(ws: ClientConnection) -> int:
    """The worker serving ``ws`` (it answers once subscribed to ``news``)."""
    await ws.send("pid?")
    answer = json.loads(await ws.recv())
    pid: int = answer["pid"]
    return pid


async def _clients_on_both_workers(server: Server) -> list[ClientConnection]:
    """At least four ``/news`` clients, some on each of the two workers."""
    clients: list[ClientConnection] = []
    pids: set[int] = set()
    async with asyncio.timeout(10):
        while len(pids) < 2 or len(clients) < 4:
            assert len(clients) < 40, f"one worker served every client: {pids}"
            ws = await connect(_ws(server, "/news"))
            clients.append(ws)
            pids.add(await _pid_of(ws))
    return clients


async def _headlines(ws: ClientConnection, seen: list[str]) -> None:
    """Appends each broadcast's headline to ``seen`` until the socket closes."""
    async for raw in ws:
        seen.append(json.loads(raw)["headline"])  # noqa: PERF401 - read while it grows


async def _until(check: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.02)


def test_redis_broadcast_reaches_both_workers_also_after_a_redis_restart(
    redis_process: RedisProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # qakeapi installed alone has qake-ws without its redis extra (RedisBroadcast)
    pytest.importorskip("redis", reason="RedisBroadcast needs redis-py (qake-ws[redis])")
    monkeypatch.setenv("QAKE_WS_E2E_REDIS_URL", redis_process.url)
    monkeypatch.setenv("QAKE_WS_E2E_PREFIX", f"qake-ws-e2e-{uuid.uuid4().hex}:")
    with qake_run(APP, "--workers", "2", log=tmp_path / "server.log", ready="/ok") as server:
        _wait_for_workers(server, 2)

        async def publish(http: httpx.AsyncClient, headline: str) -> int:
            r = await http.post(server.base + "/news", params={"headline": headline})
            assert r.status_code in (200, 503), r.text  # 503: Redis unreachable
            return r.status_code

        async def main() -> None:
            clients = await _clients_on_both_workers(server)
            seen: list[list[str]] = [[] for _ in clients]
            pairs = zip(clients, seen, strict=True)
            readers = [asyncio.create_task(_headlines(ws, got)) for ws, got in pairs]

            def everyone_has(predicate: Callable[[str], bool]) -> Callable[[], bool]:
                return lambda: all(any(map(predicate, got)) for got in seen)

            try:
                async with httpx.AsyncClient(timeout=TIMEOUT) as http:
                    assert await publish(http, "before") == 200
                    await _until(everyone_has("before".__eq__), f"'before' not everywhere: {seen}")

                    await asyncio.to_thread(redis_process.stop)
                    await asyncio.to_thread(redis_process.start)  # same port, empty
                    # Messages published before a worker subscribed again are lost (pub/sub
                    # keeps none): publish probes until every client got one.
                    probes = 0

                    async def probe() -> bool:
                        nonlocal probes
                        probes += 1
                        await publish(http, f"probe {probes}")
                        await asyncio.sleep(0.1)
                        return everyone_has(lambda h: h.startswith("probe"))()

                    async with asyncio.timeout(RECOVERY):
                        while not await probe():
                            pass
                    # Recovered: every publish reaches every client of both workers again.
                    for n in range(4):
                        assert await publish(http, f"after {n}") == 200
                    for n in range(4):
                        await _until(everyone_has(f"after {n}".__eq__), f"'after {n}': {seen}")
                assert all(ws.state is State.OPEN for ws in clients), "a client was dropped"
            finally:
                for ws in clients:
                    await ws.close()
                await asyncio.gather(*readers)

        asyncio.run(main())
        log = server.output()
        assert "Traceback" not in log, log
        assert "reconnected, subscriptions restored" in log
