"""``matched_route`` / ``route_template``: the route serving a scope, found before routing."""

from __future__ import annotations

from typing import Any

from qake_core import APIRoute, App, WebSocketRoute, matched_route, route_template


def _scope(app: App, path: str, kind: str = "http", method: str = "GET", **extra: Any) -> Any:
    scope: dict[str, Any] = {"type": kind, "path": path, "app": app, **extra}
    if kind == "http":
        scope["method"] = method
    return scope


def test_the_route_and_its_template_are_the_dispatchers() -> None:
    app = App()

    @app.get("/items/{item_id:int}")
    async def item(item_id: int) -> int:
        return item_id

    async def feed(ws: Any) -> None:
        await ws.accept()

    app.add_websocket_route("/feed/{topic}", feed)
    route = matched_route(_scope(app, "/items/3"))
    assert isinstance(route, APIRoute)
    assert route.endpoint is item
    assert route_template(_scope(app, "/items/3", root_path="/api")) == "/api/items/{item_id:int}"
    ws_route = matched_route(_scope(app, "/feed/news", kind="websocket"))
    assert isinstance(ws_route, WebSocketRoute)
    assert ws_route.endpoint is feed
    assert matched_route(_scope(app, "/items/x")) is None  # the converter refuses: 404
    assert matched_route(_scope(app, "/items/3", method="POST")) is None  # 405
    assert matched_route({"type": "http", "path": "/", "method": "GET"}) is None  # no app
