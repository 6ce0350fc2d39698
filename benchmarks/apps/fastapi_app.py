"""FastAPI, as its tutorial shows: decorators, typed parameters, a pydantic body.

S6 uses ``@app.middleware("http")`` (BaseHTTPMiddleware underneath), which is the form
the FastAPI docs teach.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse

from apps.common import N_EXTRA, PLAINTEXT, STATIC_TEXT, Item, lazy_attribute


def build(middleware: bool = False, extra: int = N_EXTRA) -> FastAPI:
    app = FastAPI()

    if middleware:
        for _ in range(3):

            @app.middleware("http")
            async def passthrough(
                request: Request, call_next: Callable[[Request], Awaitable[Response]]
            ) -> Response:
                return await call_next(request)

    @app.get("/plaintext")
    async def plaintext() -> PlainTextResponse:
        return PlainTextResponse(PLAINTEXT)

    @app.get("/json")
    async def json_() -> dict[str, str]:
        return {"message": PLAINTEXT}

    @app.get("/users/{user_id}/items/{item_id}")
    async def user_item(
        user_id: int, item_id: int, limit: int = 10, q: str = ""
    ) -> dict[str, object]:
        return {"user_id": user_id, "item_id": item_id, "limit": limit, "q": q}

    @app.post("/items", status_code=201)
    async def create_item(item: Item) -> Item:
        return item

    async def echo_x(x: str) -> dict[str, str]:
        return {"x": x}

    async def static() -> PlainTextResponse:
        return PlainTextResponse(STATIC_TEXT)

    for i in range(extra):
        app.get(f"/r{i}/{{x}}")(echo_x)
        app.get(f"/static-{i}")(static)
    return app


app = build()
__getattr__ = lazy_attribute(
    {"app_mw": lambda: build(middleware=True), "app_small": lambda: build(extra=1)}, globals()
)
