"""qakeapi with its default settings (``QakeAPI()``), written against the user-facing API.

S6 wraps a second instance in three pure ASGI pass-through middlewares via
``app.add_middleware(Cls)``.

S7 (``app_auth``): ``QakeAPI()`` (security headers are on by default),
``app.add_middleware(CORSMiddleware, allow_origins=[...])`` and
``JWTAuth(key=..., algorithms=["HS256"])`` from ``qakeapi.security`` used as
``user = Depends(jwt_auth)``. Until ``JWTAuth`` exists the factory raises ImportError
and the drivers report S7 as unavailable for qakeapi.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeVar

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
from qakeapi import Depends, PlainTextResponse, QakeAPI

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class PassThrough:
    """A pure ASGI middleware that does nothing but call the next app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


F = TypeVar("F", bound=Callable[..., Any])


def declared(func: F) -> F:
    return func


def undeclared(func: F) -> F:
    """``func`` without its return annotation."""
    func.__annotations__.pop("return", None)
    return func


def build(
    middleware: bool = False,
    extra: int = N_EXTRA,
    auth: bool = False,
    jwt_options: dict[str, Any] | None = None,
    return_types: bool = True,
    **app_options: Any,
) -> QakeAPI:
    """``return_types=False``: the handlers declare no return type, as FastAPI's
    tutorial writes them (``qakeapi_untyped.py``)."""
    app = QakeAPI(**app_options)
    returns = declared if return_types else undeclared

    @app.get("/plaintext")
    async def plaintext() -> PlainTextResponse:
        return PlainTextResponse(PLAINTEXT)

    if auth:
        # ImportError until qake-security has JWTAuth: S7 is then reported unavailable.
        from qakeapi.security import CORSMiddleware, JWTAuth

        app.add_middleware(CORSMiddleware, allow_origins=[CORS_ORIGIN])
        jwt_auth = JWTAuth(key=JWT_KEY, algorithms=[JWT_ALGORITHM], **(jwt_options or {}))

        @app.get("/json")
        @returns
        async def json_auth(user: Any = Depends(jwt_auth)) -> dict[str, str]:
            return {"message": PLAINTEXT, "user": user.identity}

    else:

        @app.get("/json")
        @returns
        async def json_() -> dict[str, str]:
            return {"message": PLAINTEXT}

    @app.get("/users/{user_id:int}/items/{item_id:int}")
    @returns
    async def user_item(
        user_id: int, item_id: int, limit: int = 10, q: str = ""
    ) -> dict[str, object]:
        return {"user_id": user_id, "item_id": item_id, "limit": limit, "q": q}

    @app.post("/items", status_code=201)
    @returns
    async def create_item(item: Item) -> Item:
        return item

    @returns
    async def echo_x(x: str) -> dict[str, str]:
        return {"x": x}

    async def static() -> PlainTextResponse:
        return PlainTextResponse(STATIC_TEXT)

    for i in range(extra):
        app.get(f"/r{i}/{{x}}")(echo_x)
        app.get(f"/static-{i}")(static)

    if middleware:
        for _ in range(3):
            app.add_middleware(PassThrough)
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
