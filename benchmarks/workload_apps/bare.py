"""The floor: a hand-written ASGI app doing S8-S10 with the same driver and serialisers.

asyncpg (the pool from the lifespan, kept in the lifespan state; the queries are
``common.read_fortunes`` and ``common.read_worlds``, as in every app), jinja2 directly with
autoescaping, pydantic models validated by hand and serialised with orjson (S9) or
``TypeAdapter(list[Customer]).dump_json`` (S10).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import jinja2
import orjson
from pydantic import TypeAdapter

from workload_apps.common import (
    CUSTOMERS,
    TEMPLATE,
    TEMPLATES,
    Customer,
    open_pool,
    read_fortunes,
    read_worlds,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

HTML = b"text/html; charset=utf-8"
JSON = b"application/json"

template = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True
).get_template(TEMPLATE)
customers_json = TypeAdapter(list[Customer])


async def fortunes(pool: Any) -> tuple[bytes, bytes]:
    return HTML, template.render(fortunes=await read_fortunes(pool)).encode()


async def queries(pool: Any) -> tuple[bytes, bytes]:
    return JSON, orjson.dumps([w.model_dump() for w in await read_worlds(pool)])


async def large_json(pool: Any) -> tuple[bytes, bytes]:
    return JSON, customers_json.dump_json(CUSTOMERS)


ROUTES = {"/fortunes": fortunes, "/queries": queries, "/large-json": large_json}


async def lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                scope["state"]["pool"] = await open_pool()
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            pool = scope["state"].get("pool")
            if pool is not None:
                await pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(scope, receive, send)
        return
    handler = ROUTES.get(scope["path"])
    if handler is None or scope["method"] != "GET":
        status, content_type, body = 404, b"text/plain; charset=utf-8", b"Not Found"
    else:
        status = 200
        content_type, body = await handler(scope["state"].get("pool"))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})
