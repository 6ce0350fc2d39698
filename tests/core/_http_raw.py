"""Drive an ASGI app with hand-made messages (chunked bodies, disconnects)."""

from __future__ import annotations

from typing import Any

import anyio

Message = dict[str, Any]


def http_scope(
    method: str = "GET", path: str = "/", headers: list[tuple[bytes, bytes]] | None = None
) -> Message:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers or [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "state": {},
    }


def call(app: Any, scope: Message, incoming: list[Message]) -> list[Message]:
    """Run ``app`` with ``incoming`` messages (then disconnect); return what it sent."""
    sent: list[Message] = []
    queue = list(incoming)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        await anyio.sleep(0.01)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        await app(scope, receive, send)

    anyio.run(main)
    return sent


def status_and_body(sent: list[Message]) -> tuple[int, bytes]:
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body
