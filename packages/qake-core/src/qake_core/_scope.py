"""Small helpers over the ASGI scope shared by the router and mounted apps."""

from __future__ import annotations

from typing import Any

from qake_core.types import Scope

__all__ = ["matched_route", "route_path", "route_template"]


def route_path(scope: Scope) -> str:
    """The path to route on: ``path`` without the ``root_path`` the app is mounted at."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


def matched_route(scope: Scope) -> Any | None:
    """The route of the app in ``scope["app"]`` that serves ``scope`` (an ``APIRoute`` or
    a ``WebSocketRoute``), matched as the dispatcher matches; ``None`` for a 404 or 405
    or without a qake-core app. For middleware that runs before routing and must know
    the route (``route.use_app_dependencies`` is ``False`` for the framework's own
    routes: the OpenAPI document and the docs pages)."""
    found = _match(scope)
    return None if found is None else found.handler


def route_template(scope: Scope) -> str | None:
    """The path template of the route serving ``scope`` (``/items/{item_id:int}``), after
    the ``root_path`` the app is mounted at; ``None`` when no route of the app in
    ``scope["app"]`` matches (a 404 or 405) or no qake-core app is in the scope.

    For what must be keyed by route rather than by raw path, which a client varies at
    will (rate limits, metrics). The app's router matches the path again: one dict
    lookup for a static path, one tree walk otherwise; nothing is stored per path.
    """
    found = _match(scope)
    return None if found is None else scope.get("root_path", "") + str(found.path)


def _match(scope: Scope) -> Any | None:
    app = scope.get("app")
    kind = scope.get("type")
    tree = getattr(app, "_tree" if kind == "http" else "_ws_tree", None)
    if tree is None:
        return None
    method = scope.get("method") if kind == "http" else None
    raw = scope.get("raw_path")
    try:
        if raw is not None and not scope.get("root_path", ""):
            # As the dispatcher matches: the raw path, so that %2F stays in its segment.
            route, _ = tree.lookup(method, raw.decode("latin-1"))
        else:
            route, _ = tree.lookup(method, route_path(scope), decoded=True)
    except LookupError:
        return None
    return route
