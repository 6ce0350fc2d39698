"""BlackSheep, as its documentation shows: request handlers bound by type annotations
(route parameters, query parameters by default, ``FromJSON`` for the body).

S6 uses three function middlewares (``async def mw(request, handler)``), BlackSheep's form.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from blacksheep import Application, FromJSON, Request, Response, Router, json, text

from apps.common import N_EXTRA, PLAINTEXT, STATIC_TEXT, Item, lazy_attribute


async def passthrough(
    request: Request, handler: Callable[[Request], Awaitable[Response]]
) -> Response:
    return await handler(request)


def build(middleware: bool = False, extra: int = N_EXTRA) -> Application:
    router = Router()
    app = Application(router=router)

    @router.get("/plaintext")
    async def plaintext() -> Response:
        return text(PLAINTEXT)

    @router.get("/json")
    async def json_() -> Response:
        return json({"message": PLAINTEXT})

    @router.get("/users/{int:user_id}/items/{int:item_id}")
    async def user_item(user_id: int, item_id: int, limit: int = 10, q: str = "") -> Response:
        return json({"user_id": user_id, "item_id": item_id, "limit": limit, "q": q})

    @router.post("/items")
    async def create_item(item: FromJSON[Item]) -> Response:
        return json(item.value, status=201)

    async def echo_x(x: str) -> Response:
        return json({"x": x})

    async def static() -> Response:
        return text(STATIC_TEXT)

    for i in range(extra):
        router.add_get(f"/r{i}/{{x}}", echo_x)
        router.add_get(f"/static-{i}", static)

    if middleware:
        for _ in range(3):
            app.middlewares.append(passthrough)
    return app


app = build()
__getattr__ = lazy_attribute(
    {"app_mw": lambda: build(middleware=True), "app_small": lambda: build(extra=1)}, globals()
)
