"""Lifespan state and hooks, background tasks, shutdown drain, real-server behaviour."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from qake_core import App, BackgroundTasks, JSONResponse, Request
from qake_testing import TestClient


def test_lifespan_state_and_hooks() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
        events.append("enter")
        yield {"db": "connected"}
        events.append("exit")

    app = App(lifespan=lifespan, on_startup=[lambda: events.append("startup")])
    app.on_event("shutdown")(lambda: events.append("shutdown"))

    @app.get("/")
    async def index(request: Request) -> dict[str, str]:
        return {"db": request.state.db}

    with TestClient(app) as c:
        assert c.get("/").json() == {"db": "connected"}
        assert events == ["startup", "enter"]
    assert events == ["startup", "enter", "exit", "shutdown"]


def test_background_tasks_failures_are_isolated(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []
    app = App()

    def fail() -> None:
        raise RuntimeError("task broke")

    @app.get("/")
    async def index() -> JSONResponse:
        tasks = BackgroundTasks()
        tasks.add_task(fail)
        tasks.add_task(ran.append, "sync")

        async def later() -> None:
            ran.append("async")

        tasks.add_task(later)
        return JSONResponse({"ok": True}, background=tasks)

    with TestClient(app) as c:
        assert c.get("/").json() == {"ok": True}
    assert ran == ["sync", "async"]
    failed = [r for r in caplog.records if r.name == "qake.background"]
    assert failed
    assert failed[0].exc_info is not None
    assert "task broke" in caplog.text


def _drain(app: App) -> list[str]:
    """Start the app, begin a request with a 0.2 s background task, shut down at 0.05 s."""
    log: list[str] = []

    async def work() -> None:
        await anyio.sleep(0.2)
        log.append("task done")

    @app.get("/")
    async def index() -> JSONResponse:
        tasks = BackgroundTasks()
        tasks.add_task(work)
        return JSONResponse(1, background=tasks)

    async def main() -> None:
        to_app, from_test = anyio.create_memory_object_stream[dict[str, Any]](10)

        async def lifespan_send(message: dict[str, Any]) -> None:
            log.append(message["type"])

        async def noop_send(message: dict[str, Any]) -> None:
            pass

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async with to_app, from_test, anyio.create_task_group() as tg:
            scope = {"type": "lifespan", "state": {}}
            tg.start_soon(app, scope, from_test.receive, lifespan_send)
            await to_app.send({"type": "lifespan.startup"})
            await anyio.sleep(0.02)
            http = {
                "type": "http",
                "method": "GET",
                "path": "/",
                "raw_path": b"/",
                "root_path": "",
                "query_string": b"",
                "headers": [],
                "state": {},
            }
            tg.start_soon(app, http, receive, noop_send)
            await anyio.sleep(0.05)
            await to_app.send({"type": "lifespan.shutdown"})

    anyio.run(main)
    return log


def test_shutdown_waits_for_background_tasks() -> None:
    log = _drain(App(shutdown_timeout=5))
    assert log == ["lifespan.startup.complete", "task done", "lifespan.shutdown.complete"]


def test_shutdown_drain_has_a_timeout(caplog: pytest.LogCaptureFixture) -> None:
    log = _drain(App(shutdown_timeout=0.01))
    assert log == ["lifespan.startup.complete", "lifespan.shutdown.complete", "task done"]
    assert "still running" in caplog.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


APP_SOURCE = textwrap.dedent(
    """
    from contextlib import asynccontextmanager
    from qake_core import App, Request, Response

    @asynccontextmanager
    async def lifespan(app):
        if FAIL:
            raise RuntimeError("database unreachable")
        yield

    app = App(lifespan=lifespan)

    @app.post("/upload")
    async def upload(request: Request) -> Response:
        return Response(await request.body())

    @app.get("/")
    async def index() -> Response:
        return Response(b"up")
    """
)


def _serve(tmp_path: Path, fail: bool, port: int) -> subprocess.Popen[bytes]:
    (tmp_path / "srv_app.py").write_text(f"FAIL = {fail}\n" + APP_SOURCE)
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "srv_app:app", "--port", str(port), "--lifespan", "on"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.e2e
def test_startup_failure_makes_uvicorn_exit(tmp_path: Path) -> None:
    proc = _serve(tmp_path, True, _free_port())
    try:
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode not in (0, None)
    assert b"database unreachable" in out


@pytest.mark.e2e
def test_client_disconnect_mid_body_under_uvicorn(tmp_path: Path) -> None:
    port = _free_port()
    proc = _serve(tmp_path, False, port)
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npartial")
            time.sleep(0.1)
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            reply = b""
            while chunk := s.recv(4096):
                reply += chunk
        assert reply.startswith(b"HTTP/1.1 200")
        assert reply.endswith(b"up")
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert b"Traceback" not in out
    assert b" 500" not in out
    logging.getLogger(__name__).debug(out.decode())
