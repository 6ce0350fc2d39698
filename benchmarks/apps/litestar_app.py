"""Litestar, as its documentation shows: handler decorators, typed parameters,
a pydantic body (Litestar's pydantic plugin is on by default).

S6 uses three ``MiddlewareProtocol`` classes (pure ASGI pass-through) given in
``middleware=[...]``.
"""

from __future__ import annotations

from litestar import Litestar, MediaType, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import MiddlewareProtocol
from litestar.types import ASGIApp, Receive, Scope, Send

from apps.common import N_EXTRA, PLAINTEXT, STATIC_TEXT, Item, lazy_attribute


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return PLAINTEXT


@get("/json")
async def json_() -> dict[str, str]:
    return {"message": PLAINTEXT}


@get("/users/{user_id:int}/items/{item_id:int}")
async def user_item(user_id: int, item_id: int, limit: int = 10, q: str = "") -> dict[str, object]:
    return {"user_id": user_id, "item_id": item_id, "limit": limit, "q": q}


@post("/items")  # Litestar answers POST with 201 by default
async def create_item(data: Item) -> Item:
    return data


async def echo_x(x: str) -> dict[str, str]:
    return {"x": x}


async def static() -> str:
    return STATIC_TEXT


def handlers(extra: int) -> list[HTTPRouteHandler]:
    result: list[HTTPRouteHandler] = [plaintext, json_, user_item, create_item]
    for i in range(extra):
        result.append(get(f"/r{i}/{{x:str}}", name=f"r{i}")(echo_x))
        result.append(get(f"/static-{i}", name=f"static-{i}", media_type=MediaType.TEXT)(static))
    return result


class PassThrough(MiddlewareProtocol):
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def build(middleware: bool = False, extra: int = N_EXTRA) -> Litestar:
    if middleware:
        return Litestar(route_handlers=handlers(extra), middleware=[PassThrough] * 3)
    return Litestar(route_handlers=handlers(extra))


app = build()
__getattr__ = lazy_attribute(
    {"app_mw": lambda: build(middleware=True), "app_small": lambda: build(extra=1)}, globals()
)
