"""Per-request cost of typed handlers, in-process, qake-core against FastAPI.

Each app is called as a bare ASGI callable (no server, no HTTP client): the number is
the app's own time per request. Run in an environment with FastAPI installed::

    python -m venv /tmp/venv-bench-typed
    /tmp/venv-bench-typed/bin/pip install fastapi -e packages/qake-routing -e packages/qake-core
    /tmp/venv-bench-typed/bin/python benchmarks/typed_handlers.py
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

N = 10_000
ROUNDS = 3


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


async def get_db() -> str:
    return "db"


BODY = b'{"name":"widget","price":9.5,"tags":["a","b"]}'


def qake_app() -> Any:
    from qake_core import App, Depends

    app = App()

    @app.get("/items/{a:int}/{b:int}")
    async def read(a: int, b: int, x: int = 0, y: int = 0) -> dict[str, int]:
        return {"a": a, "b": b, "x": x, "y": y}

    @app.post("/items")
    async def create(item: Item, db: str = Depends(get_db)) -> Item:
        return item

    return app


def fastapi_app() -> Any:
    from fastapi import Depends, FastAPI

    app = FastAPI()

    @app.get("/items/{a}/{b}")
    async def read(a: int, b: int, x: int = 0, y: int = 0) -> dict[str, int]:
        return {"a": a, "b": b, "x": x, "y": y}

    @app.post("/items")
    async def create(item: Item, db: str = Depends(get_db)) -> Item:
        return item

    return app


def _scope(method: str, path: str, query: bytes, body: bool) -> dict[str, Any]:
    headers = [(b"host", b"bench")]
    if body:
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(BODY)).encode()),
        ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
        "state": {},
    }


async def _measure(app: Any, method: str, path: str, query: bytes, body: bool) -> tuple[float, int]:
    message = {"type": "http.request", "body": BODY if body else b"", "more_body": False}
    status = 0

    async def receive() -> dict[str, Any]:
        return message

    async def send(msg: dict[str, Any]) -> None:
        nonlocal status
        if msg["type"] == "http.response.start":
            status = msg["status"]

    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(N):
            await app(_scope(method, path, query, body), receive, send)
        best = min(best, (time.perf_counter() - start) / N * 1e6)
    return best, status


CASES: list[tuple[str, str, str, bytes, bool]] = [
    ("2 path + 2 query params (GET)", "GET", "/items/12/34", b"x=5&y=6", False),
    ("validated body + 1 dependency (POST)", "POST", "/items", b"", True),
]


def main() -> None:
    apps: list[tuple[str, Callable[[], Any]]] = [("qake-core", qake_app), ("FastAPI", fastapi_app)]
    results: dict[str, list[float]] = {}
    for name, factory in apps:
        app = factory()
        results[name] = []
        for _, method, path, query, body in CASES:
            us, status = asyncio.run(_measure(app, method, path, query, body))
            assert status == 200, (name, path, status)
            results[name].append(us)
    print("| case | qake-core µs | FastAPI µs | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for i, (label, *_rest) in enumerate(CASES):
        q, f = results["qake-core"][i], results["FastAPI"][i]
        print(f"| {label} | {q:.1f} | {f:.1f} | {f / q:.1f}x faster |")


if __name__ == "__main__":
    main()
