"""The server the hostile-input suite attacks: ``qake run`` with each of uvicorn's
HTTP/1.1 parsers, started once per parser for the whole suite."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from hostile.kit import HEAD_TIMEOUT, Target, start_probe
from qake_server import qake_run

APP = "tests.e2e.hostile.hostile_app:app"
#: Tracebacks that uvicorn's bugs put in the log (the answers themselves are right):
UVICORN_BUGS = (
    # invalid UTF-8 in a WebSocket text frame: websockets-sansio closes 1007 correctly,
    # then logs the decoding error with its traceback at ERROR level;
    "Invalid UTF-8 sequence received from client.",
    # a client that pipelined requests and resets the connection mid-answer: httptools'
    # connection_lost flags only the last parsed request's cycle as disconnected, so the
    # one being answered writes to the closed uvloop transport (qake logs the failed send).
    "RuntimeError: unable to perform operation on <TCPTransport closed=True",
)


@pytest.fixture(scope="session", params=["httptools", "h11"])
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    """``qake run --http <parser>`` serving the hostile app; its pid, port and dirs.

    The prelude (run in the server's process before the app is imported) points
    ``tempfile`` at a folder of the test's own and writes the server's pid.
    """
    home = tmp_path_factory.mktemp(f"hostile-{request.param}")
    (home / "tmp").mkdir()
    pidfile = home / "pid"
    prelude = (
        "import os, tempfile\n"
        f"os.environ['HOSTILE_DIR'] = {str(home)!r}\n"
        f"tempfile.tempdir = {str(home / 'tmp')!r}\n"
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
    )
    log = home / "server.log"
    args = ("--http", request.param, "--log-level", "warning", "--ws-max-size", str(1 << 20))
    args += ("--head-timeout", str(HEAD_TIMEOUT))
    with qake_run(APP, *args, log=log, ready="/ping", prelude=prelude) as server:
        deadline = time.monotonic() + 10
        while not pidfile.read_text().strip() and time.monotonic() < deadline:
            time.sleep(0.05)  # pragma: no cover
        for _ in range(5):  # warm up: the first requests import and compile lazily
            httpx.get(server.base + "/ping", timeout=10)
            httpx.get(server.base + "/items/1?q=x", timeout=10)
        probe_log = home / "probe.log"
        probe = start_probe(server.port, probe_log)
        try:
            pid = int(pidfile.read_text())
            yield Target(request.param, server.port, pid, home, log, probe_log)
        finally:
            probe.kill()
            probe.wait()
        logged = log.read_text()
    # Attacks are answered, never crash the app: nothing the server logged is a traceback
    # but those of two uvicorn bugs (reported, not package code).
    blocks = logged.split("ERROR:")
    unexpected = [
        b for b in blocks if "Traceback" in b and not any(bug in b for bug in UVICORN_BUGS)
    ]
    assert not unexpected, logged[-4000:]
