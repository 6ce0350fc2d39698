"""Small hand-written ASGI apps the qake-testing tests drive (no framework involved)."""

from __future__ import annotations

import json
from typing import Any

import anyio

Scope = dict[str, Any]
Message = dict[str, Any]


async def read_body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        chunk: bytes = message.get("body", b"")
        body += chunk
        if not message.get("more_body", False):
            return body


async def respond(
    send: Any,
    status: int,
    body: bytes,
    content_type: bytes = b"application/json",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Any, data: Any, status: int = 200, **kwargs: Any) -> None:
    await respond(send, status, json.dumps(data).encode(), **kwargs)


class EchoApp:
    """An HTTP app with one route per behaviour the client tests need."""

    def __init__(self) -> None:
        self.startups = 0
        self.shutdowns = 0
        self.background_ran = False

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(scope, receive, send)
            return
        assert scope["type"] == "http"
        path = scope["path"]
        headers = dict(scope["headers"])
        if path == "/echo":
            body = await read_body(receive)
            await send_json(
                send,
                {
                    "method": scope["method"],
                    "path": scope["path"],
                    "raw_path": scope["raw_path"].decode(),
                    "query": scope["query_string"].decode(),
                    "root_path": scope["root_path"],
                    "client": list(scope["client"]),
                    "server": list(scope["server"]),
                    "scheme": scope["scheme"],
                    "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
                    "body": body.decode("latin-1"),
                    "state": scope.get("state"),
                },
            )
        elif path == "/set-cookie":
            await send_json(send, {}, headers=[(b"set-cookie", b"session=abc; Path=/")])
        elif path == "/cookies":
            await send_json(send, {"cookie": headers.get(b"cookie", b"").decode()})
        elif path == "/redirect":
            await respond(send, 307, b"", headers=[(b"location", b"/echo")])
        elif path == "/boom":
            raise ValueError("boom")
        elif path == "/boom-after-start":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"partial", "more_body": True})
            raise ValueError("boom after start")
        elif path == "/background":
            await respond(send, 200, b"done", b"text/plain")
            await anyio.sleep(0)
            self.background_ran = True
        elif path == "/stream":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for i in range(3):
                await send({"type": "http.response.body", "body": b"%d\n" % i, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        elif path == "/endless":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            while True:
                await send({"type": "http.response.body", "body": b"tick\n", "more_body": True})
        elif path == "/disconnect":
            await read_body(receive)
            await respond(send, 200, b"ok", b"text/plain")
            message = await receive()
            self.background_ran = message["type"] == "http.disconnect"
        else:
            await respond(send, 404, b"not found", b"text/plain")

    async def lifespan(self, scope: Scope, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.startups += 1
                scope["state"]["db"] = "connected"
                await send({"type": "lifespan.startup.complete"})
            else:
                self.shutdowns += 1
                await send({"type": "lifespan.shutdown.complete"})
                return


async def ws_app(scope: Scope, receive: Any, send: Any) -> None:
    """A WebSocket app: /echo echoes, /reject closes before accepting, /deny sends a 403."""
    assert scope["type"] == "websocket"
    message = await receive()
    assert message["type"] == "websocket.connect"
    path = scope["path"]
    if path == "/reject":
        await send({"type": "websocket.close", "code": 4003, "reason": "go away"})
        return
    if path == "/deny":
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 401,
                "headers": [(b"www-authenticate", b"Bearer")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": b"no token"})
        return
    if path == "/crash":
        raise RuntimeError("ws crash")
    subprotocol = scope["subprotocols"][0] if scope["subprotocols"] else None
    await send(
        {"type": "websocket.accept", "subprotocol": subprotocol, "headers": [(b"x-hello", b"1")]}
    )
    if path == "/close":
        await send({"type": "websocket.close", "code": 4001, "reason": "bye"})
        return
    if path == "/query":
        await send({"type": "websocket.send", "text": scope["query_string"].decode()})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            ws_app.last_close_code = message["code"]  # type: ignore[attr-defined]
            return
        if message.get("text") == "crash":
            raise RuntimeError("crash in session")
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})
