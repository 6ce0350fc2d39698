"""ASGI pieces the qake-core tests share: a hand-made HTTP scope and a pass-through edge
middleware (with it, the app routes under its edge stack instead of inline)."""

from __future__ import annotations

from typing import Any

from qake_core.types import ASGIApp, Receive, Scope, Send

Message = dict[str, Any]


def http_scope(
    method: str = "GET",
    path: str = "/",
    headers: list[tuple[bytes, bytes]] | None = None,
    server: tuple[str, int] = ("testserver", 80),
    http_version: str = "1.1",
) -> Message:
    """An HTTP scope; ``headers=None`` sends only ``Host: testserver`` (``[]``: none, which
    HTTP/1.1 refuses: pass ``http_version="1.0"``)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": http_version,
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers if headers is not None else [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": server,
        "state": {},
    }


class PassThrough:
    """A pure ASGI edge middleware that only passes the request on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
