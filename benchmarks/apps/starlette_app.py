"""Starlette, as its documentation shows: ``Route`` list, ``Request``, ``JSONResponse``.

S6 uses ``BaseHTTPMiddleware`` (``Middleware(BaseHTTPMiddleware, dispatch=...)``), the
form Starlette users write for a function middleware; Starlette 1.x has no
``@app.middleware("http")`` decorator any more, this is its equivalent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from apps.common import N_EXTRA, PLAINTEXT, STATIC_TEXT, Item, lazy_attribute


async def plaintext(request: Request) -> Response:
    return PlainTextResponse(PLAINTEXT)


async def json_(request: Request) -> Response:
    return JSONResponse({"message": PLAINTEXT})


async def user_item(request: Request) -> Response:
    query = request.query_params
    return JSONResponse(
        {
            "user_id": request.path_params["user_id"],
            "item_id": request.path_params["item_id"],
            "limit": int(query.get("limit", 10)),
            "q": query.get("q", ""),
        }
    )


async def create_item(request: Request) -> Response:
    item = Item.model_validate(await request.json())
    return JSONResponse(item.model_dump(), status_code=201)


async def echo_x(request: Request) -> Response:
    return JSONResponse({"x": request.path_params["x"]})


async def static(request: Request) -> Response:
    return PlainTextResponse(STATIC_TEXT)


def routes(extra: int) -> list[Route]:
    result = [
        Route("/plaintext", plaintext),
        Route("/json", json_),
        Route("/users/{user_id:int}/items/{item_id:int}", user_item),
        Route("/items", create_item, methods=["POST"]),
    ]
    for i in range(extra):
        result.append(Route(f"/r{i}/{{x}}", echo_x))
        result.append(Route(f"/static-{i}", static))
    return result


async def passthrough(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    return await call_next(request)


def build(middleware: bool = False, extra: int = N_EXTRA) -> Starlette:
    if middleware:
        return Starlette(
            routes=routes(extra),
            middleware=[Middleware(BaseHTTPMiddleware, dispatch=passthrough) for _ in range(3)],
        )
    return Starlette(routes=routes(extra))


app = build()
__getattr__ = lazy_attribute(
    {"app_mw": lambda: build(middleware=True), "app_small": lambda: build(extra=1)}, globals()
)
