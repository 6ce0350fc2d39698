"""``route_template``: the template of the route serving a scope, for keys that must
not follow the raw path (rate limits, metrics)."""

from __future__ import annotations

from typing import Any

from qake_core import App, Request, Router, route_template
from qake_testing import TestClient


def make_app() -> App:
    app = App()

    @app.get("/static")
    async def static(request: Request) -> dict[str, Any]:
        return {"t": route_template(request.scope)}

    @app.get("/items/{item_id:int}")
    async def item(request: Request, item_id: int) -> dict[str, Any]:
        return {"t": route_template(request.scope)}

    @app.get("/files/{rest:path}")
    async def files(request: Request, rest: str) -> dict[str, Any]:
        return {"t": route_template(request.scope)}

    api = Router(prefix="/api")

    @api.get("/users/{name}")
    async def user(request: Request, name: str) -> dict[str, Any]:
        return {"t": route_template(request.scope)}

    app.include_router(api)
    return app


def test_route_template_of_each_kind_of_route() -> None:
    with TestClient(make_app()) as client:
        assert client.get("/static").json() == {"t": "/static"}
        assert client.get("/items/7").json() == {"t": "/items/{item_id:int}"}
        assert client.get("/items/8").json() == {"t": "/items/{item_id:int}"}
        assert client.get("/files/a/b%2Fc").json() == {"t": "/files/{rest:path}"}
        assert client.get("/api/users/ann").json() == {"t": "/api/users/{name}"}
        assert client.get("/api/users/a%2Fb").json() == {"t": "/api/users/{name}"}


def test_route_template_under_a_mount_keeps_the_mount_path() -> None:
    outer = App()
    outer.mount("/v1", make_app())
    with TestClient(outer) as client:
        assert client.get("/v1/items/3").json() == {"t": "/v1/items/{item_id:int}"}


def test_route_template_is_none_without_a_route_or_an_app() -> None:
    app = make_app()
    app.build()
    base = {"type": "http", "app": app, "root_path": ""}
    assert route_template({**base, "method": "GET", "path": "/nowhere"}) is None
    assert route_template({**base, "method": "POST", "path": "/static"}) is None  # 405
    assert route_template({**base, "method": "GET", "path": "/static"}) == "/static"
    assert route_template({"type": "http", "method": "GET", "path": "/static"}) is None
    assert route_template({"type": "http", "app": object(), "method": "GET", "path": "/"}) is None
