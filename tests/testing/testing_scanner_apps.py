"""A deliberately vulnerable ASGI app and a clean one, for the scanner tests."""

from __future__ import annotations

import html
import json
import traceback
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from testing_apps import read_body, respond

OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "vulnerable", "version": "1"},
    "paths": {
        "/search": {
            "get": {"parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}]}
        },
        "/items/{item_id}": {
            "parameters": [{"$ref": "#/components/parameters/ItemId"}],
            "get": {},
        },
        "/items": {
            "post": {
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}
                    }
                }
            }
        },
    },
    "components": {
        "parameters": {"ItemId": {"name": "item_id", "in": "path", "schema": {"type": "integer"}}},
        "schemas": {
            "Item": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
            }
        },
    },
}


async def vulnerable_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Every mistake the scanner claims to find, one per route."""
    if scope["type"] != "http":
        return
    path, method = scope["path"], scope["method"]
    headers = dict(scope["headers"])
    cors: list[tuple[bytes, bytes]] = []
    if b"origin" in headers:  # reflects any Origin, with credentials
        cors = [
            (b"access-control-allow-origin", headers[b"origin"]),
            (b"access-control-allow-credentials", b"true"),
        ]
    try:
        if path == "/openapi.json":
            await respond(send, 200, json.dumps(OPENAPI).encode())
        elif path == "/search":
            q = parse_qs(scope["query_string"].decode()).get("q", [""])[0]
            page = f"<html><body>Results for {q}</body></html>".encode()
            await respond(send, 200, page, b"text/html; charset=utf-8", cors)
        elif path.startswith("/items/"):
            item_id = int(path.removeprefix("/items/"))  # ValueError on bad input
            await respond(send, 200, json.dumps({"id": item_id}).encode(), headers=cors)
        elif path == "/items" and method == "POST":
            item = json.loads(await read_body(receive))
            total = item["price"] * 2  # TypeError on wrong types
            await respond(send, 201, json.dumps({"total": total}).encode(), headers=cors)
        else:
            await respond(send, 404, b"{}", headers=cors)
    except Exception:
        # The classic mistake: a debug page with the traceback.
        await respond(send, 500, traceback.format_exc().encode(), b"text/plain")


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
]


async def clean_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The same API done right: 4xx for bad input, escaped HTML, headers, no CORS."""
    if scope["type"] != "http":
        return
    path, method = scope["path"], scope["method"]

    async def reply(status: int, body: bytes, content_type: bytes = b"application/json") -> None:
        await respond(send, status, body, content_type, SECURITY_HEADERS)

    if path == "/openapi.json":
        await reply(200, json.dumps(OPENAPI).encode())
    elif path == "/search":
        query = scope["query_string"].decode("utf-8", "replace")
        q = parse_qs(query).get("q", [""])[0]
        await reply(200, f"<p>{html.escape(q)}</p>".encode(), b"text/html; charset=utf-8")
    elif path.startswith("/items/"):
        raw = path.removeprefix("/items/")
        if not raw.isascii() or not raw.isdigit():
            await reply(422, b'{"detail": "item_id must be an integer"}')
        else:
            await reply(200, json.dumps({"id": int(raw)}).encode())
    elif path == "/items" and method == "POST":
        body = await read_body(receive)
        try:
            item = json.loads(body) if len(body) < 100_000 else None
            total = float(item["price"]) * 2 if isinstance(item, dict) else None
        except (ValueError, TypeError, KeyError, RecursionError):
            total = None
        if total is None:
            await reply(400, b'{"detail": "invalid item"}')
        else:
            await reply(201, json.dumps({"total": total}).encode())
    else:
        await reply(404, b'{"detail": "not found"}')


@dataclass
class RouteParam:
    name: str
    location: str


@dataclass
class Route:
    """Shaped like an entry of a qake app's ``routes``."""

    path: str
    methods: frozenset[str] | None
    params: list[RouteParam] = field(default_factory=list)


class RoutedApp:
    """The vulnerable app without OpenAPI, exposing ``routes`` instead."""

    routes = (
        Route("/search", frozenset({"GET", "HEAD"}), [RouteParam("q", "query")]),
        Route("/items/{item_id:int}", frozenset({"GET"})),
        Route("/ws", None),
    )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/openapi.json":
            await respond(send, 404, b"")
            return
        await vulnerable_app(scope, receive, send)
