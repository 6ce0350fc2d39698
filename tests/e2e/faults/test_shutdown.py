"""Graceful shutdown under a real uvicorn: requests in flight at SIGTERM complete,
background tasks drain within the app's shutdown_timeout, the process exits 0; with a
drain period (``qakeapi._drain``) readiness turns 503 first while requests are still
served."""

from __future__ import annotations

import signal
import time
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path

import httpx
import pytest

from tests.e2e.faults.launch import (
    Launched,
    drain_command,
    launched,
    qake_run_command,
    wait_for,
)

pytestmark = [pytest.mark.fault, pytest.mark.e2e]

LAUNCHERS = {"qake-run": qake_run_command, "drain-module": partial(drain_command, drain_seconds=0)}


def get(server: Launched, path: str, timeout: float = 30) -> httpx.Response:
    return httpx.get(server.base + path, timeout=timeout)


def refuses(server: Launched) -> bool:
    try:
        httpx.get(server.base + "/ping", timeout=1)
    except httpx.ConnectError:
        return True
    except httpx.TransportError:
        return False
    return False


def in_flight(server: Launched) -> int:
    return int(get(server, "/in-flight").json()["in_flight"])


@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_requests_in_flight_complete_after_sigterm(tmp_path: Path, launcher: str) -> None:
    env = {"FAULT_MARKERS": str(tmp_path)}
    with (
        launched(LAUNCHERS[launcher], tmp_path / "server.log", env) as server,
        ThreadPoolExecutor(4) as pool,
    ):
        get(server, "/background?seconds=1&name=task-1")
        slow: list[Future[httpx.Response]] = [
            pool.submit(get, server, f"/slow?seconds=2&name=r{i}") for i in range(3)
        ]
        wait_for(lambda: in_flight(server) == 3, 20, "3 slow requests in flight")
        sent = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: refuses(server), 20, "the server to stop accepting")
        answers = [future.result(timeout=30) for future in slow]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [a.json()["slept"] for a in answers] == ["r0", "r1", "r2"]
        status = server.wait_exit(30)
        took = time.monotonic() - sent
    print(f"{launcher}: 3 slow requests answered 200, exit status {status}, {took:.2f} s")
    assert (tmp_path / "task-1").exists(), "the background task did not finish"
    assert (tmp_path / "lifespan-shutdown").exists()
    assert took < 20
    if launcher == "drain-module":
        assert status == 0, server.output()


def test_qake_run_exits_0_after_a_clean_sigterm_shutdown(tmp_path: Path) -> None:
    env = {"FAULT_MARKERS": str(tmp_path)}
    with launched(qake_run_command, tmp_path / "server.log", env) as server:
        server.proc.send_signal(signal.SIGTERM)
        assert server.wait_exit(30) == 0


def test_a_failed_lifespan_shutdown_exits_non_zero_with_the_error_once(tmp_path: Path) -> None:
    """A shutdown that raised (a buffer not flushed, a pool not closed) is a failure the
    supervisor must see: exit status 1, not 0 (uvicorn logs it and exits 0)."""
    env = {"FAULT_MARKERS": str(tmp_path), "FAULT_SHUTDOWN": "fail"}
    with launched(qake_run_command, tmp_path / "server.log", env) as server:
        server.proc.send_signal(signal.SIGTERM)
        status = server.wait_exit(30)
        output = server.output()
    assert status == 1, output
    assert output.count("shutdown fault: the write-behind buffer could not be flushed") == 1
    assert "Application shutdown failed" in output


def test_background_tasks_drain_within_the_shutdown_timeout(tmp_path: Path) -> None:
    env = {"FAULT_MARKERS": str(tmp_path), "FAULT_SHUTDOWN_TIMEOUT": "3"}
    command = partial(drain_command, drain_seconds=0)
    with launched(command, tmp_path / "server.log", env) as server:
        get(server, "/background?seconds=0.5&name=short")
        get(server, "/background?seconds=600&name=stuck")
        sent = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        status = server.wait_exit(60)
        took = time.monotonic() - sent
        output = server.output()
    print(f"shutdown_timeout 3 s, a stuck task: exit status {status} after {took:.2f} s")
    assert status == 0, output
    assert (tmp_path / "short").exists()
    assert not (tmp_path / "stuck").exists()
    assert (tmp_path / "lifespan-shutdown").exists()
    assert 3 <= took < 15, took
    assert "Cancel 1 running task(s), timeout graceful shutdown exceeded" in output


def ready_status(server: Launched) -> int:
    return get(server, "/readyz").status_code


def qake_run_drain_command(port: int, drain_seconds: float) -> list[str]:
    return [*qake_run_command(port), "--drain-seconds", str(drain_seconds)]


@pytest.mark.parametrize(
    "launcher",
    [
        pytest.param(drain_command, id="drain-module"),
        pytest.param(qake_run_drain_command, id="qake-run"),
    ],
)
def test_drain_period_readiness_fails_first_and_requests_are_still_served(
    tmp_path: Path, launcher: object
) -> None:
    env = {"FAULT_MARKERS": str(tmp_path)}
    drain = 3.0
    assert callable(launcher)
    command = partial(launcher, drain_seconds=drain)
    with (
        launched(command, tmp_path / "server.log", env) as server,
        ThreadPoolExecutor(2) as pool,
    ):
        assert ready_status(server) == 200
        slow = pool.submit(get, server, "/slow?seconds=4&name=long")
        wait_for(lambda: in_flight(server) == 1, 20, "the slow request in flight")
        sent = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        to_503 = wait_for(lambda: ready_status(server) == 503, 10, "readiness 503")
        problem = get(server, "/readyz")
        assert problem.headers["content-type"] == "application/problem+json"
        assert problem.json()["detail"] == "the server is shutting down"
        served = 0
        while time.monotonic() - sent < drain - 1:  # new connections, still answered
            assert get(server, "/ping").status_code == 200
            assert get(server, "/healthz").status_code == 200
            served += 1
        wait_for(lambda: refuses(server), drain + 20, "the end of the drain period")
        stopped = time.monotonic() - sent
        assert slow.result(timeout=30).json() == {"slept": "long"}
        status = server.wait_exit(30)
    print(
        f"drain {drain} s: readiness 503 after {to_503:.2f} s, {served} probes served, "
        f"stopped accepting after {stopped:.2f} s"
    )
    assert status == 0, server.output()
    assert to_503 < 3.0, to_503  # on_tick notices the signal within 0.1 s; slack for CI
    assert served > 0
    assert drain - 0.5 <= stopped < drain + 10, stopped


def test_a_second_signal_ends_the_drain_period(tmp_path: Path) -> None:
    env = {"FAULT_MARKERS": str(tmp_path)}
    command = partial(drain_command, drain_seconds=600)
    with launched(command, tmp_path / "server.log", env) as server:
        server.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: ready_status(server) == 503, 10, "readiness 503")
        sent = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        status = server.wait_exit(30)
        took = time.monotonic() - sent
    print(f"second signal: exit status {status} after {took:.2f} s")
    assert status == 0
    assert took < 10


@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_open_event_streams_end_cleanly_at_shutdown(tmp_path: Path, launcher: str) -> None:
    """An event stream never ends by itself: at SIGTERM the server ends it (its client's
    EventSource reconnects, elsewhere) instead of waiting its graceful timeout (30 s
    here) and cancelling it with an ERROR."""
    env = {"FAULT_MARKERS": str(tmp_path)}
    with launched(LAUNCHERS[launcher], tmp_path / "server.log", env) as server:
        with httpx.stream("GET", server.base + "/events", timeout=30) as stream:
            lines = stream.iter_lines()
            assert [next(lines), next(lines)] == ["id: 0", 'data: {"tick":0}']
            sent = time.monotonic()
            server.proc.send_signal(signal.SIGTERM)
            rest = list(lines)  # to the end of the response, which must come
            ended = time.monotonic() - sent
        status = server.wait_exit(30)
        took = time.monotonic() - sent
        output = server.output()
    print(f"{launcher}: stream ended after {ended:.2f} s, exit {status} after {took:.2f} s")
    assert ended < 5, output
    assert took < 10, output
    assert "ended 1 event stream(s)" in output
    assert "ERROR" not in output, output
    assert "Traceback" not in output, output
    assert status == 0, output
    assert all(line == "" or line.startswith(("id:", "data:")) for line in rest), rest
