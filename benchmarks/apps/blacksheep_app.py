"""BlackSheep, as its documentation shows: request handlers bound by type annotations
(route parameters, query parameters by default, ``FromJSON`` for the body).

S6 uses three function middlewares (``async def mw(request, handler)``), BlackSheep's form.

S7 (``app_auth``): an ``AuthenticationHandler`` (guardpost) that verifies the bearer token
with PyJWT and sets ``Identity(claims)``, added with ``app.use_authentication().add(...)``
plus ``app.use_authorization()`` and ``@auth()`` on the route, the handler taking
``user: Identity``, as BlackSheep's authentication docs show a custom scheme;
``app.use_cors(...)``; the security header from a function middleware. BlackSheep's own
``JWTBearerAuthentication`` is not used: it requires the ``cryptography`` package (not in
the benchmark environment) and ``aud``/``iss`` claims the other apps do not ask for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import jwt
from blacksheep import Application, FromJSON, Request, Response, Router, json, text
from blacksheep.server.authorization import auth
from guardpost import AuthenticationHandler, Identity

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


class JWTHandler(AuthenticationHandler):
    async def authenticate(self, context: Request) -> Identity | None:  # type: ignore[override]
        context.user = None
        header = context.get_first_header(b"Authorization")
        if header:
            scheme, _, token = header.decode().partition(" ")
            if scheme.lower() == "bearer":
                try:
                    claims = jwt.decode(token, JWT_KEY, algorithms=[JWT_ALGORITHM])
                except jwt.InvalidTokenError:
                    return None
                context.user = Identity(claims, "JWT Bearer")
        return context.user


async def security_headers(
    request: Request, handler: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await handler(request)
    response.add_header(b"X-Content-Type-Options", b"nosniff")
    return response


async def passthrough(
    request: Request, handler: Callable[[Request], Awaitable[Response]]
) -> Response:
    return await handler(request)


def build(middleware: bool = False, extra: int = N_EXTRA, auth_: bool = False) -> Application:
    router = Router()
    app = Application(router=router)
    if auth_:
        app.use_cors(allow_methods="GET POST", allow_origins=CORS_ORIGIN)
        app.use_authentication().add(JWTHandler())
        app.use_authorization()
        app.middlewares.append(security_headers)

    @router.get("/plaintext")
    async def plaintext() -> Response:
        return text(PLAINTEXT)

    if auth_:

        @auth()
        @router.get("/json")
        async def json_auth(user: Identity) -> Response:
            return json({"message": PLAINTEXT, "user": user.sub})

    else:

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
    {
        "app_mw": lambda: build(middleware=True),
        "app_small": lambda: build(extra=1),
        "app_auth": lambda: build(auth_=True),
    },
    globals(),
)
