"""The example app under ASGI servers other than uvicorn, on a free loopback port.

``App.__call__`` is a plain function returning the route's coroutine (one coroutine
fewer per request); a server must still take the app for ASGI 3. Hypercorn asks
``inspect.iscoroutinefunction(app.__call__)``, which before Python 3.12 knows no mark
(``qake_core._asgi3``): it would call an ASGI 2 app, ``app(scope)``, and every request
would fail.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
from qake_server import free_port, serving


def test_hypercorn_serves_the_example_app(tmp_path: Path) -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "hypercorn",
        "examples.basic_app:app",
        "--bind",
        f"127.0.0.1:{port}",
    ]
    with serving(command, port, log=tmp_path / "hypercorn.log", ready="/items/1") as server:
        item = httpx.get(server.base + "/items/1")
        assert (item.status_code, item.json()) == (200, {"name": "Hammer", "price": 9.5})
        assert item.headers["x-content-type-options"] == "nosniff"
        created = httpx.post(server.base + "/items", json={"name": "Saw", "price": 12})
        assert created.status_code == 201
        missing = httpx.get(server.base + "/nowhere")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
