"""Falcon (ASGI flavour), as its documentation shows: resource classes with ``on_get``/
``on_post`` responders, ``req.get_param_as_int``, ``req.get_media()`` validated by the
pydantic model.

S6 uses three middleware components with no-op ``process_request`` and
``process_response`` hooks, the form Falcon's docs teach.

S7 (``app_auth``): a ``@falcon.before`` hook on the resource that verifies the bearer
token with PyJWT (``falcon.HTTPUnauthorized`` otherwise) and puts the user in
``req.context`` (Falcon ships no JWT tool; its docs point to hooks and middleware for
authentication), ``falcon.CORSMiddleware(allow_origins=...)``, and the security header
from a middleware component's ``process_response``.
"""

from __future__ import annotations

from typing import Any

import falcon
import falcon.asgi
import jwt

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


class PlainTextResource:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = PLAINTEXT


class JSONResource:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = {"message": PLAINTEXT}


async def authenticate(
    req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: Any, params: dict[str, Any]
) -> None:
    scheme, _, token = (req.auth or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise falcon.HTTPUnauthorized(title="Authentication required", challenges=["Bearer"])
    try:
        claims = jwt.decode(token, JWT_KEY, algorithms=[JWT_ALGORITHM])
    except jwt.InvalidTokenError:
        raise falcon.HTTPUnauthorized(title="Invalid token", challenges=["Bearer"]) from None
    req.context.user = claims["sub"]


class JSONAuthResource:
    @falcon.before(authenticate)
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = {"message": PLAINTEXT, "user": req.context.user}


class SecurityHeaders:
    async def process_response(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: Any, ok: bool
    ) -> None:
        resp.set_header("X-Content-Type-Options", "nosniff")


class UserItemResource:
    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, user_id: int, item_id: int
    ) -> None:
        resp.media = {
            "user_id": user_id,
            "item_id": item_id,
            "limit": req.get_param_as_int("limit", default=10),
            "q": req.get_param("q", default=""),
        }


class ItemsResource:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        item = Item.model_validate(await req.get_media())
        resp.media = item.model_dump()
        resp.status = falcon.HTTP_201


class EchoXResource:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, x: str) -> None:
        resp.media = {"x": x}


class StaticResource:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = STATIC_TEXT


class PassThrough:
    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        pass

    async def process_response(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: Any, ok: bool
    ) -> None:
        pass


def build(
    middleware: bool = False, extra: int = N_EXTRA, auth: bool = False
) -> falcon.asgi.App[Any, Any]:
    components: list[Any] | None = None
    if middleware:
        components = [PassThrough() for _ in range(3)]
    elif auth:
        components = [falcon.CORSMiddleware(allow_origins=CORS_ORIGIN), SecurityHeaders()]
    app = falcon.asgi.App(middleware=components)
    app.add_route("/plaintext", PlainTextResource())
    app.add_route("/json", JSONAuthResource() if auth else JSONResource())
    app.add_route("/users/{user_id:int}/items/{item_id:int}", UserItemResource())
    app.add_route("/items", ItemsResource())
    echo_x, static = EchoXResource(), StaticResource()
    for i in range(extra):
        app.add_route(f"/r{i}/{{x}}", echo_x)
        app.add_route(f"/static-{i}", static)
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
