"""Workers of ``scaleout_app`` sharing one Redis and one PostgreSQL, as the tests see
them: ``Backend`` (one worker, a client pinned to it, a way to kill it), ``Cluster``
(the backends and the addresses a load balancer would spread load over) and
``RoundRobin`` (a small load balancer with one cookie jar, as one browser behind it).
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]
APP = "tests.e2e.scaleout.scaleout_app:app"
TIMEOUT = 10.0

__all__ = [
    "APP",
    "Backend",
    "Cluster",
    "RoundRobin",
    "WriteLoad",
    "cookieless_client",
    "launch",
    "run_write_load",
]


class Backend:
    """One worker process: its pid and an HTTP client holding one connection to it.

    Behind a shared socket (``qake run --workers``) a connection the server closed (idle
    longer than uvicorn's 5 s keep-alive) is replaced by one the kernel may hand to the
    other worker: :meth:`request` first checks, with ``GET /pid``, that the connection
    still reaches this worker (reconnecting until it does), then sends the request and
    checks that this worker answered (``x-worker``).
    """

    def __init__(self, pid: int, client: httpx.Client) -> None:
        self.pid = pid
        self.client = client

    def __repr__(self) -> str:
        return f"Backend(pid={self.pid})"

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)

    def close(self) -> None:
        self.client.close()

    def _pinned(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline, f"no connection reaches worker {self.pid}"
            try:
                if self.client.get("/pid").json()["pid"] == self.pid:
                    return
            except httpx.TransportError:
                pass
            base = str(self.client.base_url)
            self.client.close()
            self.client = cookieless_client(base, limits=httpx.Limits(max_connections=1))

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self._pinned()
        response = self.client.request(method, path, **kwargs)
        assert response.headers["x-worker"] == str(self.pid), "answered by another worker"
        return response


@dataclass
class Cluster:
    """The workers (``backends``) and the base URLs in front of them (``targets``: one
    shared socket for ``qake run --workers``, one URL per host otherwise)."""

    name: str
    backends: list[Backend]
    targets: list[str]
    logs: list[Path] = field(default_factory=list)
    table: str = ""

    def output(self) -> str:
        return "\n".join(f"--- {log}\n{log.read_text(errors='replace')}" for log in self.logs)


@contextmanager
def launch(
    command: Sequence[str], *, env: dict[str, str], log: Path, base: str, ready: str = "/pid"
) -> Iterator[int]:
    """Start ``command`` (a server), wait until ``base + ready`` answers, yield the process's
    pid; terminate it (kill after 10 s) at exit."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(command), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + ready, timeout=1.0)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{command} did not start:\n{log.read_text(errors='replace')}")
                time.sleep(0.1)
        yield proc.pid
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                proc.kill()
                proc.wait()


def cookieless_client(base: str, **options: Any) -> httpx.Client:
    """An HTTP client that keeps no cookies (``RoundRobin`` holds the one jar)."""
    jar = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return httpx.Client(base_url=base, timeout=TIMEOUT, cookies=jar, **options)


def pinned_clients(base: str, count: int) -> list[Backend]:
    """``count`` backends behind one shared socket: new one-connection clients until
    ``count`` distinct worker pids answered (the kernel picks the worker per connection)."""
    found: dict[int, httpx.Client] = {}
    deadline = time.monotonic() + 30
    while len(found) < count:
        assert time.monotonic() < deadline, f"only workers {sorted(found)} answered"
        client = cookieless_client(base, limits=httpx.Limits(max_connections=1))
        try:
            pid = int(client.get("/pid").json()["pid"])
        except httpx.TransportError:  # a worker still starting (uvicorn restarts it)
            client.close()
            time.sleep(0.1)
            continue
        if pid in found:
            client.close()
        else:
            found[pid] = client
    return [Backend(pid, client) for pid, client in found.items()]


class RoundRobin:
    """Sends each request to the next backend (or to ``on=i``), with one cookie jar for
    all of them (cookies are kept by name, as one browser facing one site), and checks
    that the answer came from that backend's worker."""

    def __init__(self, backends: Sequence[Backend]) -> None:
        self.backends = list(backends)
        self.cookies: dict[str, str] = {}
        self._turn = itertools.cycle(range(len(self.backends)))

    def request(
        self, method: str, path: str, *, on: int | None = None, **kwargs: Any
    ) -> httpx.Response:
        backend = self.backends[next(self._turn) if on is None else on]
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = backend.request(method, path, headers=headers, **kwargs)
        for line in response.headers.get_list("set-cookie"):
            pair, _, attributes = line.partition(";")
            name, _, value = pair.strip().partition("=")
            if "max-age=0" in attributes.lower().replace(" ", ""):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response


@dataclass
class WriteLoad:
    """What a write load saw: ``accepted`` (write id → pid that answered 201),
    ``statuses`` (every HTTP status), ``transport_errors`` (requests that got no
    answer, retried elsewhere), the accepted writes after the kill per pid."""

    accepted: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    transport_errors: int = 0
    after_kill: dict[int, int] = field(default_factory=dict)
    victim: int = 0
    killed_after: float = 0.0
    seconds: float = 0.0


async def run_write_load(
    cluster: Cluster,
    *,
    writers: int = 8,
    before_kill: int = 15,
    after_kill: int = 300,
    limit: float = 40.0,
) -> WriteLoad:
    """``writers`` concurrent clients POST ``/writes`` round-robin over the cluster's
    targets, one connection per request (so that a shared socket spreads them over the
    workers). Once every worker accepted ``before_kill`` writes, the one with the most is
    killed (SIGKILL) with requests in flight; the load goes on until the survivors
    accepted ``after_kill`` more. A request without an answer is retried, with the same
    write id (the write is idempotent), on the next target; a target that refuses
    connections leaves the rotation."""
    load = WriteLoad()
    pids = {b.pid for b in cluster.backends}
    live = list(cluster.targets)
    turn = itertools.count()
    killed = asyncio.Event()
    done = asyncio.Event()
    per_pid: dict[int, int] = dict.fromkeys(pids, 0)
    started = time.monotonic()

    async def writer(client: httpx.AsyncClient) -> None:
        while not done.is_set():
            write_id = str(uuid.uuid4())
            for _attempt in range(10):
                target = live[next(turn) % len(live)]
                try:
                    r = await client.post(target + "/writes", json={"id": write_id})
                except httpx.ConnectError:
                    if killed.is_set() and len(live) > 1 and target in live:
                        live.remove(target)  # the killed host: out of the rotation
                    continue
                except httpx.TransportError:
                    load.transport_errors += 1
                    continue
                load.statuses[r.status_code] = load.statuses.get(r.status_code, 0) + 1
                if r.status_code == 201:
                    pid = int(r.headers["x-worker"])
                    load.accepted[write_id] = pid
                    per_pid[pid] = per_pid.get(pid, 0) + 1
                    if killed.is_set():
                        load.after_kill[pid] = load.after_kill.get(pid, 0) + 1
                break
            else:
                pytest.fail(f"write {write_id} found no worker in 10 attempts")

    async def conductor() -> None:
        deadline = started + limit
        while any(per_pid[p] < before_kill for p in pids):
            assert time.monotonic() < deadline, f"writes per worker before the kill: {per_pid}"
            await asyncio.sleep(0.01)
        victim = max(pids, key=lambda p: per_pid[p])
        load.victim = victim
        os.kill(victim, signal.SIGKILL)
        load.killed_after = time.monotonic() - started
        killed.set()
        while sum(n for p, n in load.after_kill.items() if p != victim) < after_kill:
            assert time.monotonic() < deadline, f"accepted after the kill: {load.after_kill}"
            await asyncio.sleep(0.01)
        done.set()

    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=TIMEOUT, limits=limits) as client:
        async with asyncio.timeout(limit + 15):
            await asyncio.gather(conductor(), *(writer(client) for _ in range(writers)))
    load.seconds = time.monotonic() - started
    return load


def python_command(*args: str) -> list[str]:
    """``python -m qakeapi ARGS`` with this interpreter."""
    return [sys.executable, "-m", "qakeapi", *args]
