"""A Redis server process really stopped mid-test, then started again: the rate limit
follows its store-error policy meanwhile (never a 500), logs the outage once, and
limits again once Redis answers. Runs a private ``redis-server`` on a free port (the
shared one on 6379 is never touched)."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qake_core import App, RedisStore
from qake_security import RateLimit
from qake_testing import TestClient


class RedisProcess:
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
        self.proc = subprocess.Popen(
            [
                self.exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
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
    exe = shutil.which("redis-server")
    if exe is None:  # pragma: no cover - .ci/run installs it
        pytest.skip("redis-server is not installed (CI installs Debian's redis-server)")
    server = RedisProcess(exe, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def limited_app(url: str, **options: object) -> App:
    app = App()
    store = RedisStore(url)

    @app.get("/", dependencies=[RateLimit("3/minute", store=store, **options)])  # type: ignore[arg-type]
    async def index() -> dict[str, bool]:
        return {"ok": True}

    @app.on_event("shutdown")
    async def close() -> None:
        await store.aclose()

    return app


def test_fail_open_while_the_redis_process_is_stopped(
    redis_process: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="qake.security")
    with TestClient(limited_app(redis_process.url), raise_server_exceptions=False) as client:
        assert client.get("/").status_code == 200
        redis_process.stop()
        during = [client.get("/") for _ in range(5)]
        assert [r.status_code for r in during] == [200] * 5
        assert "ratelimit" not in during[0].headers  # no counter to report
        redis_process.start()  # a fresh server: the limit starts again from zero
        after = [client.get("/").status_code for _ in range(4)]
    assert after == [200, 200, 200, 429]
    outages = [r for r in caplog.records if r.name == "qake.security"]
    assert len(outages) == 1


def test_fail_closed_while_the_redis_process_is_stopped(redis_process: RedisProcess) -> None:
    app = limited_app(redis_process.url, on_store_error="closed")
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/").status_code == 200
        redis_process.stop()
        refused = client.get("/")
        assert refused.status_code == 503
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert int(refused.headers["retry-after"]) > 0
        redis_process.start()
        assert client.get("/").status_code == 200
