"""The floor: a hand-written ASGI callable doing the same work as the framework apps.

Dict route lookup (static paths by the full path, parametrised ones by their first
segment), a split of the query string (percent-decoding only when needed), ``int()``
conversions, orjson for JSON and the same pydantic model (``Item.model_validate_json``)
for S4's body.

S7 (``app_auth``): the same app, where ``GET /json`` reads the bearer token from the
``Authorization`` header and verifies it with PyJWT (``jwt.decode``, HS256 only, ``exp``
and ``iat`` required), 401 without a valid one; every answer gets
``X-Content-Type-Options: nosniff`` and, for the allowed ``Origin``,
``Access-Control-Allow-Origin`` with ``Vary: Origin``. Hand-written, no middleware.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_plus

import jwt
import orjson

from apps.common import (
    CORS_ORIGIN,
    JWT_ALGORITHM,
    JWT_KEY,
    N_EXTRA,
    PLAINTEXT,
    STATIC_TEXT,
    Item,
    lazy_attribute,
)

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


UNAUTHORIZED = (401, TEXT, b"Unauthorized")


async def json_auth(scope: Scope, parts: list[str], receive: Receive) -> tuple[int, bytes, bytes]:
    authorization = b""
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value
            break
    scheme, _, token = authorization.partition(b" ")
    if scheme.lower() != b"bearer" or not token:
        return UNAUTHORIZED
    try:
        claims = jwt.decode(
            token, JWT_KEY, algorithms=[JWT_ALGORITHM], options={"require": ["exp", "iat"]}
        )
    except jwt.InvalidTokenError:
        return UNAUTHORIZED
    return 200, JSON, orjson.dumps({"message": PLAINTEXT, "user": claims["sub"]})


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
        self,
        extra: int = N_EXTRA,
        extra_headers: list[tuple[bytes, bytes]] | None = None,
        auth: bool = False,
    ) -> None:
        #: Header lines sent after Content-Type and Content-Length (none by default).
        self.extra_headers = extra_headers or []
        #: S7: the allowed origin's CORS header lines (sent when the request's Origin is
        #: it), or None for no CORS.
        self.cors: list[tuple[bytes, bytes]] | None = None
        if auth:
            nosniff = (b"x-content-type-options", b"nosniff")
            if nosniff not in self.extra_headers:  # bare-headers sends it already
                self.extra_headers = [*self.extra_headers, nosniff]
            self.cors = [
                (b"access-control-allow-origin", CORS_ORIGIN.encode()),
                (b"vary", b"Origin"),
            ]
        # (method, path) -> handler for static paths; (method, first segment) -> handler
        # for parametrised paths. Registration order mirrors the framework apps.
        self.static: dict[tuple[str, str], Handler] = {}
        self.dynamic: dict[tuple[str, str], Handler] = {}
        self.static["GET", "/plaintext"] = plaintext
        self.static["GET", "/json"] = json_auth if auth else json_
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
        headers = [
            (b"content-type", ctype),
            (b"content-length", str(len(body)).encode()),
            *self.extra_headers,
        ]
        if self.cors is not None:
            for name, value in scope["headers"]:
                if name == b"origin":
                    if value == self.cors[0][1]:
                        headers += self.cors
                    break
        await send({"type": "http.response.start", "status": status, "headers": headers})
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
    auth: bool = False,
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    app: Callable[[Scope, Receive, Send], Awaitable[None]] = BareApp(extra, extra_headers, auth)
    if middleware:
        for _ in range(3):
            app = PassThrough(app)
    return app


app = build()
__getattr__ = lazy_attribute(
    {
        "app_mw": lambda: build(middleware=True),
        "app_small": lambda: build(extra=1),
        "app_auth": lambda: build(auth=True),
    },
    globals(),
)
