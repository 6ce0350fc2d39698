"""Two workers of one app behave as one app (issue 18, scale-out): ``scaleout_app`` on
``qake run --workers 2`` (one socket, the kernel spreads connections) and on two "hosts"
(network namespaces on a bridge, one ``qake run`` each, a round-robin client in front),
sharing one Redis and one PostgreSQL.

Each topology: a rate limit is global, a cached response computed on one worker is
served by the other, a session created on one is valid on the other, a CSRF token issued
by one is accepted by the other, a WebSocket broadcast reaches the clients of both; then
one worker is killed (SIGKILL) in the middle of a write load and the survivors keep
serving, with every write that was answered 2xx in the database afterwards.

The namespaced hosts get their own ``redis-server`` on the bridge's address and reach
PostgreSQL (which listens on loopback only) through ``tcp_forward.py`` on the host side.
Where namespaces cannot be made (not root, no ``ip``...) that variant is skipped with
the reason, and the ``--workers`` one still runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from redis_process import redis_answers
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.scaleout import netns
from tests.e2e.scaleout.cluster import (
    APP,
    ROOT,
    Backend,
    Cluster,
    RoundRobin,
    cookieless_client,
    launch,
    pinned_clients,
    python_command,
    run_write_load,
)

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.scaleout]

asyncpg = pytest.importorskip("asyncpg", reason="the test app writes through asyncpg")
pytest.importorskip("redis", reason="the workers share state through redis-py (an extra)")

PG = ("127.0.0.1", 5432)
PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
HERE = Path(__file__).parent


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _pg_answers() -> bool:
    try:
        socket.create_connection(PG, timeout=1).close()
    except OSError:
        return False
    return True


async def _sql(query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(PG_DSN)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def shared_state() -> Iterator[dict[str, str]]:
    """The app's settings for one cluster: a fresh Redis prefix, secret and table."""
    if not redis_answers("127.0.0.1", 6379):
        pytest.skip("no Redis on 127.0.0.1:6379")
    if not _pg_answers():
        pytest.skip("no PostgreSQL on 127.0.0.1:5432 (trust, database test)")
    tag = uuid.uuid4().hex[:12]
    table = f"scaleout_writes_{tag}"
    asyncio.run(_sql(f"CREATE TABLE {table} (id text PRIMARY KEY, pid integer NOT NULL)"))
    try:
        yield {
            "SCALEOUT_PREFIX": f"qake-scaleout-{tag}:",
            "SCALEOUT_SECRET": secrets.token_hex(32),
            "SCALEOUT_TABLE": table,
        }
    finally:
        asyncio.run(_sql(f"DROP TABLE IF EXISTS {table}"))


def _env(settings: dict[str, str], redis_url: str, dsn: str) -> dict[str, str]:
    return {
        **os.environ,
        **settings,
        "PYTHONPATH": str(ROOT),
        "SCALEOUT_REDIS_URL": redis_url,
        "SCALEOUT_DSN": dsn,
    }


def _workers_cluster(stack: ExitStack, settings: dict[str, str], logs: Path) -> Cluster:
    """``qake run --workers 2`` on a free loopback port."""
    port = _free_port("127.0.0.1")
    base = f"http://127.0.0.1:{port}"
    env = _env(settings, "redis://127.0.0.1:6379/0", PG_DSN)
    command = python_command("run", APP, "--port", str(port), "--workers", "2")
    log = logs / "workers.log"
    stack.enter_context(launch(command, env=env, log=log, base=base))
    backends = pinned_clients(base, 2)
    for backend in backends:
        stack.callback(backend.close)
    return Cluster("workers", backends, [base], [log], settings["SCALEOUT_TABLE"])


def _hosts_cluster(stack: ExitStack, settings: dict[str, str], logs: Path) -> Cluster:
    """One ``qake run`` in each of two network namespaces; Redis and a PostgreSQL
    forwarder on the bridge's address."""
    reason = netns.unavailable()
    if reason is not None:
        pytest.skip(f"no network namespaces here ({reason}); the --workers variant ran")
    redis_exe = shutil.which("redis-server")
    if redis_exe is None:
        pytest.skip("redis-server is not installed (the namespaced hosts get their own)")
    hosts = netns.Hosts()
    stack.callback(hosts.remove)
    hosts.create()
    gateway = hosts.gateway

    redis_port = _free_port(gateway)
    redis_args = ["--bind", gateway, "--port", str(redis_port), "--save", ""]
    redis_args += ["--appendonly", "no", "--protected-mode", "no", "--dir", str(logs)]
    redis = subprocess.Popen(
        [redis_exe, *redis_args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stack.callback(_stop, redis)
    pg_port = _free_port(gateway)
    forward = subprocess.Popen(
        [sys.executable, str(HERE / "tcp_forward.py"), gateway, str(pg_port), *map(str, PG)],
        stdout=subprocess.PIPE,
    )
    stack.callback(_stop, forward)
    assert forward.stdout is not None
    assert forward.stdout.readline().strip() == b"ready"
    deadline = time.monotonic() + 10
    while not redis_answers(gateway, redis_port):
        assert time.monotonic() < deadline, "the namespaces' redis-server did not start"
        time.sleep(0.05)

    env = _env(
        settings,
        f"redis://{gateway}:{redis_port}/0",
        f"postgresql://postgres@{gateway}:{pg_port}/test",
    )
    backends, targets, log_files = [], [], []
    for i in range(hosts.count):
        address = hosts.address(i)
        base = f"http://{address}:8000"
        command = [
            *hosts.exec_prefix(i),
            *python_command("run", APP, "--host", address, "--port", "8000"),
        ]
        log = logs / f"host{i}.log"
        pid = stack.enter_context(launch(command, env=env, log=log, base=base))
        backend = Backend(pid, cookieless_client(base))
        stack.callback(backend.close)
        backend.request("GET", "/pid")  # ip netns exec execs: the same process answers
        backends.append(backend)
        targets.append(base)
        log_files.append(log)
    return Cluster("hosts", backends, targets, log_files, settings["SCALEOUT_TABLE"])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.stdout is not None:
        proc.stdout.close()
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover
        proc.kill()
        proc.wait()


@contextmanager
def _running(kind: str, settings: dict[str, str], logs: Path) -> Iterator[Cluster]:
    with ExitStack() as stack:
        make = _workers_cluster if kind == "workers" else _hosts_cluster
        running = make(stack, settings, logs)
        assert len({b.pid for b in running.backends}) == 2
        yield running


@pytest.fixture(scope="module", params=["workers", "hosts"])
def cluster(
    request: pytest.FixtureRequest,
    shared_state: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    """A cluster the shared-state tests use (in any order: nothing is killed)."""
    logs = tmp_path_factory.mktemp(f"scaleout-{request.param}")
    with _running(request.param, shared_state, logs) as running:
        yield running


@pytest.fixture(params=["workers", "hosts"])
def doomed_cluster(
    request: pytest.FixtureRequest, shared_state: dict[str, str], tmp_path: Path
) -> Iterator[Cluster]:
    """A cluster of its own for the test that kills one of its workers."""
    with _running(request.param, shared_state, tmp_path) as running:
        yield running


def test_rate_limit_is_global(cluster: Cluster) -> None:
    """5/minute for one client: 10 requests alternating between the workers get 5
    answers and 5 refusals (a per-worker limit would let all 10 through)."""
    lb = RoundRobin(cluster.backends)
    answers = [lb.request("GET", "/limited") for _ in range(10)]
    statuses = [r.status_code for r in answers]
    assert statuses == [200] * 5 + [429] * 5, statuses
    assert {int(r.headers["x-worker"]) for r in answers[:5]} == {b.pid for b in cluster.backends}
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) > 0


def test_cached_response_is_served_by_the_other_worker(cluster: Cluster) -> None:
    first, second = cluster.backends
    key = uuid.uuid4().hex
    computed = first.request("GET", f"/cached/{key}")
    assert computed.status_code == 200
    assert "x-cache" not in computed.headers
    assert computed.json()["computed_by"] == first.pid
    served = second.request("GET", f"/cached/{key}")
    assert served.status_code == 200
    assert served.headers["x-worker"] == str(second.pid)
    assert served.headers["x-cache"] == "hit"
    assert served.json() == computed.json()  # the same nonce: not computed again
    assert served.headers["etag"] == computed.headers["etag"]
    revalidated = second.request(
        "GET", f"/cached/{key}", headers={"if-none-match": computed.headers["etag"]}
    )
    assert revalidated.status_code == 304


def test_session_created_on_one_is_valid_on_the_other(cluster: Cluster) -> None:
    lb = RoundRobin(cluster.backends)
    token = lb.request("GET", "/csrf", on=0).json()["token"]
    assert "session" in lb.cookies
    login = lb.request(
        "POST", "/login", on=1, json={"user": "alice"}, headers={"x-csrf-token": token}
    )
    assert login.status_code == 200, login.text
    for on in (0, 1, 0, 1):
        me = lb.request("GET", "/me", on=on)
        assert me.status_code == 200, me.text
        assert me.json() == {"user": "alice"}
    # The control: without the session cookie neither worker knows the user.
    for backend in cluster.backends:
        assert backend.request("GET", "/me").status_code == 401


def test_csrf_token_issued_by_one_is_accepted_by_the_other(cluster: Cluster) -> None:
    lb = RoundRobin(cluster.backends)
    token = lb.request("GET", "/csrf", on=1).json()["token"]
    assert lb.cookies["csrf"] == token
    ok = lb.request("POST", "/login", on=0, json={"user": "bob"}, headers={"x-csrf-token": token})
    assert ok.status_code == 200, ok.text
    # After the login (a new session id) a token of the old session is refused...
    stale = lb.request(
        "POST", "/login", on=1, json={"user": "bob"}, headers={"x-csrf-token": token}
    )
    assert stale.status_code == 403
    # ...and the token the other worker issues for the new session is accepted here.
    fresh = lb.request("GET", "/csrf", on=0).json()["token"]
    assert fresh != token
    again = lb.request(
        "POST", "/login", on=1, json={"user": "bob"}, headers={"x-csrf-token": fresh}
    )
    assert again.status_code == 200, again.text
    missing = lb.request("POST", "/login", on=0, json={"user": "bob"})
    assert missing.status_code == 403


async def _subscribers(cluster: Cluster) -> list[tuple[ClientConnection, int]]:
    """``/news`` clients until each worker has at least one (answered once subscribed)."""
    wanted = {b.pid for b in cluster.backends}
    clients: list[tuple[ClientConnection, int]] = []
    async with asyncio.timeout(20):
        while {pid for _, pid in clients} != wanted or len(clients) < 4:
            assert len(clients) < 40, f"clients reached only {[pid for _, pid in clients]}"
            base = cluster.targets[len(clients) % len(cluster.targets)]
            ws = await connect(base.replace("http://", "ws://") + "/news")
            await ws.send("pid?")
            pid = json.loads(await ws.recv())["pid"]
            assert pid in wanted
            clients.append((ws, pid))
    return clients


async def _broadcast_check(cluster: Cluster) -> None:
    clients = await _subscribers(cluster)
    try:
        for backend in cluster.backends:
            headline = uuid.uuid4().hex
            r = await asyncio.to_thread(
                backend.request, "POST", "/news", params={"headline": headline}
            )
            assert r.status_code == 200, r.text
            async with asyncio.timeout(10):
                for ws, _pid in clients:
                    message = json.loads(await ws.recv())
                    assert message == {"headline": headline, "from": backend.pid}
    finally:
        for ws, _pid in clients:
            await ws.close()


def test_broadcast_reaches_clients_of_both(cluster: Cluster) -> None:
    asyncio.run(_broadcast_check(cluster))


def test_killed_worker_loses_no_accepted_write(doomed_cluster: Cluster) -> None:
    """Writes round-robin over the workers; one is killed (SIGKILL) mid-run; the
    survivors take over; every write answered 201 is in the database."""
    cluster = doomed_cluster
    load = asyncio.run(run_write_load(cluster))
    assert "Traceback" not in cluster.output(), cluster.output()
    assert set(load.statuses) == {201}, load.statuses
    survivors = {pid: n for pid, n in load.after_kill.items() if pid != load.victim}
    assert sum(survivors.values()) >= 300, load
    ids = list(load.accepted)
    found = asyncio.run(_sql(f"SELECT id FROM {cluster.table} WHERE id = ANY($1)", ids))
    rows = {row["id"] for row in found}
    missing = set(ids) - rows
    assert not missing, f"{len(missing)} accepted writes are not in the database"
    print(
        f"\n[{cluster.name}] writes accepted {len(ids)}, by the victim before the kill "
        f"{sum(1 for p in load.accepted.values() if p == load.victim)}, after the kill "
        f"{sum(survivors.values())} by {sorted(survivors)}; requests without an answer "
        f"(retried) {load.transport_errors}; kill at {load.killed_after:.2f} s of "
        f"{load.seconds:.2f} s; all {len(ids)} in the database"
    )
