"""Starlette, as its documentation shows: ``Route`` list, ``Request``, ``JSONResponse``.

S6 uses ``BaseHTTPMiddleware`` (``Middleware(BaseHTTPMiddleware, dispatch=...)``), the
form Starlette users write for a function middleware; Starlette 1.x has no
``@app.middleware("http")`` decorator any more, this is its equivalent.

S7 (``app_auth``) uses Starlette's own pieces as its authentication docs show them:
``AuthenticationMiddleware`` with a JWT ``AuthenticationBackend`` (PyJWT, HS256; a bad
token raises ``AuthenticationError``, answered 401 by ``on_error``) and
``@requires("authenticated", status_code=401)`` on the route, ``CORSMiddleware``, and the
security header from a pure ASGI middleware (the form Starlette's docs recommend for a
middleware that only edits the response start).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import jwt
from starlette.applications import Starlette
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
    SimpleUser,
    requires,
)
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


async def plaintext(request: Request) -> Response:
    return PlainTextResponse(PLAINTEXT)


async def json_(request: Request) -> Response:
    return JSONResponse({"message": PLAINTEXT})


@requires("authenticated", status_code=401)
async def json_auth(request: Request) -> Response:
    return JSONResponse({"message": PLAINTEXT, "user": request.user.display_name})


class JWTBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        if "Authorization" not in conn.headers:
            return None
        scheme, _, token = conn.headers["Authorization"].partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            payload = jwt.decode(token, JWT_KEY, algorithms=[JWT_ALGORITHM])
        except jwt.InvalidTokenError:
            raise AuthenticationError("Invalid token") from None
        return AuthCredentials(["authenticated"]), SimpleUser(payload["sub"])


def auth_error(conn: HTTPConnection, exc: Exception) -> Response:
    return JSONResponse(
        {"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
    )


class SecurityHeadersMiddleware:
    """Pure ASGI: add ``X-Content-Type-Options: nosniff`` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Content-Type-Options"] = "nosniff"
            await send(message)

        await self.app(scope, receive, send_with_headers)


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


def routes(extra: int, auth: bool = False) -> list[Route]:
    result = [
        Route("/plaintext", plaintext),
        Route("/json", json_auth if auth else json_),
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


def build(middleware: bool = False, extra: int = N_EXTRA, auth: bool = False) -> Starlette:
    if auth:
        return Starlette(
            routes=routes(extra, auth=True),
            middleware=[
                Middleware(SecurityHeadersMiddleware),
                Middleware(CORSMiddleware, allow_origins=[CORS_ORIGIN]),
                Middleware(AuthenticationMiddleware, backend=JWTBackend(), on_error=auth_error),
            ],
        )
    if middleware:
        return Starlette(
            routes=routes(extra),
            middleware=[Middleware(BaseHTTPMiddleware, dispatch=passthrough) for _ in range(3)],
        )
    return Starlette(routes=routes(extra))


app = build()
__getattr__ = lazy_attribute(
    {
        "app_mw": lambda: build(middleware=True),
        "app_small": lambda: build(extra=1),
        "app_auth": lambda: build(auth=True),
    },
    globals(),
)
