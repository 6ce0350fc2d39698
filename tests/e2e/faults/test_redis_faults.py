"""Redis unavailable at startup and lost mid-run, under a real ``qake run``, with a
private ``redis-server`` stopped and started again (the shared one on 6379 is never
touched): rate limits follow their ``on_store_error`` (open: unlimited; closed: 503),
the response cache serves uncached, sessions fail closed (503), nothing answers 500,
each outage is logged once; when Redis is back all of it works again. A Redis
broadcast that cannot reach Redis at startup fails the startup (the server exits); its
reconnection mid-run is tests/e2e/test_ws_e2e_redis.py's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from qake_server import ROOT, free_port
from redis_process import RedisProcess, redis_process  # noqa: F401 - the fixture

from tests.e2e.faults.launch import Launched, launched, wait_for

pytestmark = [pytest.mark.fault, pytest.mark.e2e, pytest.mark.redis]

pytest.importorskip("redis", reason="RedisStore needs redis-py")


def redis_app_command(port: int) -> list[str]:
    target = "tests.e2e.faults.redis_app:app"
    return [sys.executable, "-m", "qakeapi", "run", target, "--port", str(port)]


@pytest.fixture
def server(redis_process: RedisProcess, tmp_path: Path) -> Iterator[Launched]:  # noqa: F811
    redis_process.stop()  # unavailable at startup
    env = {"FAULT_REDIS_URL": redis_process.url}
    with launched(redis_app_command, tmp_path / "server.log", env, ready="/ping") as running:
        yield running


def check_redis_down(client: httpx.Client, browser: httpx.Client, *, signed_in: bool) -> None:
    for _ in range(4):  # more than the quota: unlimited while failing open
        r = client.get("/limited-open")
        assert r.status_code == 200
        assert "ratelimit-policy" in r.headers
        assert "ratelimit" not in r.headers  # nothing counted
    for _ in range(2):
        r = client.get("/limited-closed")
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["retry-after"] == "5"
    first = client.get("/cached").json()["computed"]
    second = client.get("/cached")
    assert second.status_code == 200
    assert "x-cache" not in second.headers
    assert second.json()["computed"] == first + 1  # the handler answers each one
    # A request with a session cookie is refused whatever its route: the session
    # cannot be read, and is never served as anonymous.
    me = browser.get("/me")
    if signed_in:
        assert me.status_code == 503
        assert me.json()["detail"] == "The session store is unavailable."
    else:  # no session cookie: nothing to read, nothing written
        assert me.json() == {"user": None}
    for r in (me, browser.post("/login", params={"name": "eve"})):
        if r is me and not signed_in:
            continue
        assert r.status_code == 503
        assert r.json()["detail"] == "The session store is unavailable."
        assert "set-cookie" not in r.headers
    assert client.get("/ping").status_code == 200


def check_redis_up(client: httpx.Client, browser: httpx.Client, *, fresh: bool = True) -> None:
    # The first calls after Redis came back may meet the pool's dead connections.
    answered = (200, 429)  # the limit could read its store
    wait_for(lambda: client.get("/limited-closed").status_code in answered, 20, "Redis back")
    limited = [client.get("/limited-open") for _ in range(4)]
    if fresh:  # a restarted Redis is empty: a whole quota again
        assert [r.status_code for r in limited] == [200, 200, 200, 429]
    else:  # the same Redis: counting goes on
        assert limited[-1].status_code == 429
        assert all("ratelimit" in r.headers or r.status_code == 429 for r in limited)
    miss = client.get("/cached")
    hit = client.get("/cached")
    assert hit.headers["x-cache"] == "hit"
    assert hit.json() == miss.json()
    # A session from before the outage is gone (the restarted Redis is empty): anonymous.
    # Else (the same Redis) it is still there.
    if browser.cookies:
        user = browser.get("/me").json()["user"]
        assert user is None if fresh else user.startswith("ann-")
    assert browser.post("/login", params={"name": f"ann-{uuid.uuid4().hex}"}).status_code == 200
    assert browser.get("/me").json()["user"].startswith("ann-")


def test_redis_unavailable_at_startup_then_lost_mid_run(
    server: Launched,
    redis_process: RedisProcess,  # noqa: F811
) -> None:
    with (
        httpx.Client(base_url=server.base, timeout=15) as client,
        httpx.Client(base_url=server.base, timeout=15) as browser,
    ):
        check_redis_down(client, browser, signed_in=False)
        redis_process.start()
        check_redis_up(client, browser)
        redis_process.stop()
        check_redis_down(client, browser, signed_in=True)
        redis_process.start()
        check_redis_up(client, browser)
    output = server.output()
    assert " 500 " not in output  # no request was answered 500
    assert output.count("rate limit 'open': its store RedisStore failed") == 1
    assert output.count("rate limit 'closed': its store RedisStore failed") == 1
    assert output.count("response cache of GET /cached: its store RedisStore failed") == 1
    # Sessions: one ERROR (with its traceback) as each of the two outages begins, then a
    # count, not a traceback per refused request; a WARNING when the store answers again.
    assert output.count("session store unavailable: answering 503 until it recovers") == 2
    assert output.count("session store recovered after") == 2


def test_a_redis_broadcast_unreachable_at_startup_fails_the_startup(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    port = free_port()
    env = {
        "QAKE_WS_E2E_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "QAKE_WS_E2E_PREFIX": f"qake-faults-{uuid.uuid4().hex}:",
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "qakeapi", "run", "tests.e2e.ws_app:app"]
    with log.open("wb") as out:
        proc = subprocess.run(
            [*command, "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=60,
            check=False,
        )
    output = log.read_text()
    assert proc.returncode == 3, output
    assert output.count("Redis is unreachable") == 1, output
    assert "Uvicorn running on" not in output


def timed(call: Callable[[], httpx.Response]) -> tuple[int, float]:
    started = time.monotonic()
    status = call().status_code
    return status, time.monotonic() - started


def test_a_hung_redis_bounds_every_request(
    server: Launched,
    redis_process: RedisProcess,  # noqa: F811
) -> None:
    """Redis stops answering without closing its connections (a network partition, a
    stopped process): each request still ends, within its store's timeout."""
    with (
        httpx.Client(base_url=server.base, timeout=30) as client,
        httpx.Client(base_url=server.base, timeout=30) as browser,
    ):
        redis_process.start()
        check_redis_up(client, browser)
        assert redis_process.proc is not None
        os.kill(redis_process.proc.pid, signal.SIGSTOP)
        try:
            limited_open = timed(lambda: client.get("/limited-open"))
            limited_closed = timed(lambda: client.get("/limited-closed"))
            cached = timed(lambda: client.get("/cached"))
            session = timed(lambda: browser.get("/me"))
        finally:
            os.kill(redis_process.proc.pid, signal.SIGCONT)
        check_redis_up(client, browser, fresh=False)
    print(
        f"hung Redis: open {limited_open}, closed {limited_closed}, cached {cached}, "
        f"session {session}"
    )
    # RateLimit's store_timeout (1 s), the cache's (1 s per call), RedisStore's own
    # timeout for the session store (2 s): generous bounds for a loaded machine.
    assert limited_open[0] == 200
    assert limited_open[1] < 5
    assert limited_closed[0] == 503
    assert limited_closed[1] < 5
    assert cached[0] == 200
    assert cached[1] < 8
    assert session[0] == 503
    assert session[1] < 8
    assert " 500 " not in server.output()
