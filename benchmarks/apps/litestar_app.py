"""Litestar, as its documentation shows: handler decorators, typed parameters,
a pydantic body (Litestar's pydantic plugin is on by default).

S6 uses three ``MiddlewareProtocol`` classes (pure ASGI pass-through) given in
``middleware=[...]``.

S7 (``app_auth``) uses Litestar's built-ins as its security docs show them:
``litestar.security.jwt.JWTAuth`` (PyJWT underneath) with a ``retrieve_user_handler``
and ``on_app_init=[jwt_auth.on_app_init]``, the handler reading ``request.user``;
``cors_config=CORSConfig(...)``; the security header as an app-level
``response_headers=[ResponseHeader(...)]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Litestar, MediaType, Request, get, post
from litestar.config.cors import CORSConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import ResponseHeader
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import MiddlewareProtocol
from litestar.security.jwt import JWTAuth, Token
from litestar.types import ASGIApp, Receive, Scope, Send

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


@dataclass
class User:
    name: str


async def retrieve_user_handler(
    token: Token, connection: ASGIConnection[Any, Any, Any, Any]
) -> User:
    return User(name=token.sub)


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return PLAINTEXT


@get("/json")
async def json_() -> dict[str, str]:
    return {"message": PLAINTEXT}


@get("/json", name="json-auth")
async def json_auth(request: Request[User, Token, Any]) -> dict[str, str]:
    return {"message": PLAINTEXT, "user": request.user.name}


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


def handlers(extra: int, auth: bool = False) -> list[HTTPRouteHandler]:
    result: list[HTTPRouteHandler] = [plaintext, json_auth if auth else json_]
    result += [user_item, create_item]
    for i in range(extra):
        result.append(get(f"/r{i}/{{x:str}}", name=f"r{i}")(echo_x))
        result.append(get(f"/static-{i}", name=f"static-{i}", media_type=MediaType.TEXT)(static))
    return result


class PassThrough(MiddlewareProtocol):
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def build(middleware: bool = False, extra: int = N_EXTRA, auth: bool = False) -> Litestar:
    if auth:
        jwt_auth = JWTAuth[User](
            retrieve_user_handler=retrieve_user_handler,
            token_secret=JWT_KEY,
            algorithm=JWT_ALGORITHM,
        )
        return Litestar(
            route_handlers=handlers(extra, auth=True),
            on_app_init=[jwt_auth.on_app_init],
            cors_config=CORSConfig(allow_origins=[CORS_ORIGIN]),
            response_headers=[ResponseHeader(name="X-Content-Type-Options", value="nosniff")],
        )
    if middleware:
        return Litestar(route_handlers=handlers(extra), middleware=[PassThrough] * 3)
    return Litestar(route_handlers=handlers(extra))


app = build()
__getattr__ = lazy_attribute(
    {
        "app_mw": lambda: build(middleware=True),
        "app_small": lambda: build(extra=1),
        "app_auth": lambda: build(auth=True),
    },
    globals(),
)
