"""``qake run --head-timeout``: the deadline for a request head (qakeapi/_head_deadline.py)
on a real uvicorn, under both HTTP/1.1 parsers, one worker and two.

The slowloris cases of the hostile suite (tests/e2e/hostile/test_hostile_connections.py)
check the first head of a connection; these check the rest: a later head on a kept-alive
connection, a pipelined head waiting behind a slow response (never cut while the server
holds it back), the deadline reaching worker processes, ``0`` turning it off, and bad
values refused at startup.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from qake_server import ROOT, Server, qake_run

pytestmark = pytest.mark.e2e

APP = "head_deadline_app:app"
PRELUDE = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})"
DEADLINE = 1.0
GET_PING = b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
PARTIAL = b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


@pytest.fixture(scope="module", params=["httptools", "h11"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("head") / "server.log"
    args = ("--http", request.param, "--head-timeout", str(DEADLINE), "--log-level", "info")
    with qake_run(APP, *args, log=log, ready="/ping", prelude=PRELUDE) as running:
        yield running


def _read_until_closed(s: socket.socket, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and when it closed; fails when the
    connection is still open after ``limit`` s."""
    s.settimeout(limit)
    started = time.monotonic()
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    return data, time.monotonic() - started


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def test_a_later_head_on_a_kept_alive_connection_has_the_deadline_too(server: Server) -> None:
    with _connect(server.port) as s:
        s.sendall(GET_PING)
        time.sleep(0.3)
        s.sendall(PARTIAL)  # before uvicorn's 5 s keep-alive timeout would close it
        data, waited = _read_until_closed(s, DEADLINE + 4)
    first, _, rest = data.partition(b'{"ok":true}')
    assert first.startswith(b"HTTP/1.1 200 OK\r\n"), data[:300]
    assert rest.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), data[:600]
    assert waited < DEADLINE + 2
    assert "request head not complete after 1 s: 408" in server.output()


def test_a_pipelined_head_behind_a_slow_response_is_not_cut_off_early(server: Server) -> None:
    """The slow response takes 2.5 s, beyond the 1 s deadline: the head that follows it
    waits on the server, so the timer waits too; once the response is out, the client
    has its own second to finish the head, and does not."""
    with _connect(server.port) as s:
        s.sendall(b"GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + PARTIAL)
        data, waited = _read_until_closed(s, 8)
    first, _, rest = data.partition(b'{"slow":true}')
    assert first.startswith(b"HTTP/1.1 200 OK\r\n"), data[:300]
    assert rest.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), data[:600]
    assert 2.5 + DEADLINE - 0.6 < waited < 2.5 + DEADLINE + 2.5


def test_a_head_finished_in_time_is_served(server: Server) -> None:
    with _connect(server.port) as s:
        for byte in GET_PING[:-1]:
            s.send(bytes([byte]))
        time.sleep(DEADLINE / 2)
        s.sendall(GET_PING[-1:])
        s.settimeout(5)
        answer = s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")


def test_the_deadline_reaches_the_worker_processes(tmp_path: Path) -> None:
    args = ("--head-timeout", str(DEADLINE), "--workers", "2")
    with qake_run(
        APP, *args, log=tmp_path / "server.log", ready="/ping", prelude=PRELUDE
    ) as running:
        answers = []
        for _ in range(4):  # the kernel spreads connections over both workers
            with _connect(running.port) as s:
                s.sendall(PARTIAL)
                answers.append(_read_until_closed(s, DEADLINE + 3)[0])
        output = running.output()
    assert all(a.startswith(b"HTTP/1.1 408 Request Timeout\r\n") for a in answers), answers
    assert output.count("request head not complete") == 4


def test_zero_turns_the_deadline_off(tmp_path: Path) -> None:
    args = ("--head-timeout", "0")
    with (
        qake_run(
            APP, *args, log=tmp_path / "server.log", ready="/ping", prelude=PRELUDE
        ) as running,
        _connect(running.port) as s,
    ):
        s.sendall(PARTIAL)
        with pytest.raises(TimeoutError):
            _read_until_closed(s, 3)  # well past the 1 s the others are given
        s.sendall(b"x\r\n\r\n")  # the head, finished late, is served
        s.settimeout(5)
        assert s.recv(4096).startswith(b"HTTP/1.1 200 OK\r\n")


@pytest.mark.parametrize("value", ["-1", "inf", "soon"])
def test_a_bad_value_is_refused_at_startup(value: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "qakeapi", "run", APP, "--head-timeout", value],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--head-timeout" in done.stderr
    assert "seconds" in done.stderr
    assert "Traceback" not in done.stderr
