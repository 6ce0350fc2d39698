"""The floor: a hand-written ASGI callable doing the same work as the framework apps.

Dict route lookup (static paths by the full path, parametrised ones by their first
segment), a split of the query string (percent-decoding only when needed), ``int()`` conversions, orjson for JSON and the
same pydantic model (``Item.model_validate_json``) for S4's body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_plus

import orjson

from apps.common import N_EXTRA, PLAINTEXT, STATIC_TEXT, Item, lazy_attribute

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[Scope, list[str], Receive], Awaitable[tuple[int, bytes, bytes]]]

TEXT = b"text/plain; charset=utf-8"
JSON = b"application/json"


def parse_query(raw: bytes) -> dict[str, str]:
    query: dict[str, str] = {}
    for pair in raw.decode("latin-1").split("&"):
        if pair:
            name, _, value = pair.partition("=")
            if "%" in pair or "+" in pair:
                name, value = unquote_plus(name), unquote_plus(value)
            query[name] = value
    return query


async def plaintext(scope: Scope, parts: list[str], receive: Receive) -> tuple[int, bytes, bytes]:
    return 200, TEXT, PLAINTEXT.encode()


async def json_(scope: Scope, parts: list[str], receive: Receive) -> tuple[int, bytes, bytes]:
    return 200, JSON, orjson.dumps({"message": PLAINTEXT})


async def user_item(scope: Scope, parts: list[str], receive: Receive) -> tuple[int, bytes, bytes]:
    # parts == ["users", "<user_id>", "items", "<item_id>"]
    if len(parts) != 4 or parts[2] != "items":
        return 404, TEXT, b"Not Found"
    try:
        user_id = int(parts[1])
        item_id = int(parts[3])
        query = parse_query(scope["query_string"])
        limit = int(query.get("limit", 10))
    except ValueError:
        return 422, TEXT, b"Unprocessable"
    q = query.get("q", "")
    payload = {"user_id": user_id, "item_id": item_id, "limit": limit, "q": q}
    return 200, JSON, orjson.dumps(payload)


async def create_item(scope: Scope, parts: list[str], receive: Receive) -> tuple[int, bytes, bytes]:
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    item = Item.model_validate_json(body)
    return 201, JSON, item.model_dump_json().encode()


async def echo_x(scope: Scope, parts: list[str], receive: Receive) -> tuple[int, bytes, bytes]:
    if len(parts) != 2:
        return 404, TEXT, b"Not Found"
    return 200, JSON, orjson.dumps({"x": parts[1]})


async def static(scope: Scope, parts: list[str], receive: Receive) -> tuple[int, bytes, bytes]:
    return 200, TEXT, STATIC_TEXT.encode()


class BareApp:
    def __init__(
        self, extra: int = N_EXTRA, extra_headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        #: Header lines sent after Content-Type and Content-Length (none by default).
        self.extra_headers = extra_headers or []
        # (method, path) -> handler for static paths; (method, first segment) -> handler
        # for parametrised paths. Registration order mirrors the framework apps.
        self.static: dict[tuple[str, str], Handler] = {}
        self.dynamic: dict[tuple[str, str], Handler] = {}
        self.static["GET", "/plaintext"] = plaintext
        self.static["GET", "/json"] = json_
        self.dynamic["GET", "users"] = user_item
        self.static["POST", "/items"] = create_item
        for i in range(extra):
            self.dynamic["GET", f"r{i}"] = echo_x
            self.static["GET", f"/static-{i}"] = static

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        method = scope["method"]
        path = scope["path"]
        handler = self.static.get((method, path))
        parts: list[str] = []
        if handler is None:
            parts = path[1:].split("/")
            handler = self.dynamic.get((method, parts[0]))
        if handler is None:
            status, ctype, body = 404, TEXT, b"Not Found"
        else:
            status, ctype, body = await handler(scope, parts, receive)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", ctype),
                    (b"content-length", str(len(body)).encode()),
                    *self.extra_headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class PassThrough:
    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def build(
    middleware: bool = False,
    extra: int = N_EXTRA,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    app: Callable[[Scope, Receive, Send], Awaitable[None]] = BareApp(extra, extra_headers)
    if middleware:
        for _ in range(3):
            app = PassThrough(app)
    return app


app = build()
__getattr__ = lazy_attribute(
    {"app_mw": lambda: build(middleware=True), "app_small": lambda: build(extra=1)}, globals()
)
