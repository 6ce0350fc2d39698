"""Small helpers over the ASGI scope shared by the router and mounted apps."""

from __future__ import annotations

from qake_core.types import Scope

__all__ = ["route_path"]


def route_path(scope: Scope) -> str:
    """The path to route on: ``path`` without the ``root_path`` the app is mounted at."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path
