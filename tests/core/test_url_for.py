"""Reversing routes and named mounts."""

from __future__ import annotations

import pytest

from qake_core import App, Request, Router
from qake_routing import URLBuildError


def make_app() -> App:
    app = App()
    app.mount("/assets", App(), name="assets")
    api = Router(prefix="/api")

    @api.get("/items/{item_id:int}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.websocket("/ws/{room}")
    async def room(ws: object) -> None:
        return None

    @app.get("/")
    async def index(request: Request) -> dict[str, str]:
        return {"item": request.url_for("item", item_id=3)}

    app.include_router(api)
    return app


def test_routes_mounts_and_websockets_reverse() -> None:
    app = make_app()
    assert app.url_path_for("item", item_id=7) == "/api/items/7"
    assert app.url_path_for("assets", path="/css/a b.css") == "/assets/css/a%20b.css"
    assert app.url_path_for("assets", path="x.js") == "/assets/x.js"
    assert app.url_path_for("room", room="blue") == "/ws/blue"


def test_unknown_names_and_bad_mount_params_fail_clearly() -> None:
    app = make_app()
    with pytest.raises(URLBuildError, match="no route named 'nope'"):
        app.url_path_for("nope")
    with pytest.raises(URLBuildError, match="takes only 'path'"):
        app.url_path_for("assets", path="/a", version=2)
