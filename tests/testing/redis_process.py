"""A private ``redis-server`` for tests that stop Redis mid-test (the shared server on
127.0.0.1:6379 is never touched): ``RedisProcess`` and the ``redis_process`` fixture.

Import the fixture into a test module (``from redis_process import redis_process``);
``tests/testing`` is on pytest's ``pythonpath``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["RedisProcess", "redis_answers", "redis_process"]


def redis_answers(host: str, port: int) -> bool:
    """Whether a Redis server answers ``PING`` at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisProcess:
    """``redis-server`` on a free loopback port, keeping nothing on disk; ``stop()`` and
    ``start()`` again reuse the port (a restarted server starts empty)."""

    def __init__(self, exe: str, workdir: Path) -> None:
        self.exe = exe
        self.workdir = workdir
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.exe, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not redis_answers("127.0.0.1", self.port):
            if time.monotonic() > deadline:  # pragma: no cover - environment
                pytest.fail("the private redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    """A started private Redis, stopped after the test."""
    exe = shutil.which("redis-server")
    if exe is None:  # pragma: no cover - .ci/run installs it
        pytest.skip("redis-server is not installed (CI installs Debian's redis-server)")
    server = RedisProcess(exe, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
