"""The decorator forms of ``Router.add``: ``@router.route(...)``, ``@router.get(...)``..."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ._route import Methods, Route

__all__ = ["RouteDecorators"]

H = TypeVar("H")


class RouteDecorators:
    """Mixin: each decorator registers the handler and returns it unchanged.

    Nothing here is web-specific; ``route(path)`` with no methods suits any dispatcher.
    """

    def add(
        self,
        path: str,
        handler: Any,
        methods: Methods = None,
        *,
        name: str | None = None,
        **meta: Any,
    ) -> Route:
        raise NotImplementedError

    def route(
        self, path: str, methods: Methods = None, *, name: str | None = None, **meta: Any
    ) -> Callable[[H], H]:
        """Decorator form of ``add``; returns the handler unchanged."""

        def decorator(handler: H) -> H:
            self.add(path, handler, methods, name=name, **meta)
            return handler

        return decorator

    def get(self, path: str, *, name: str | None = None, **meta: Any) -> Callable[[H], H]:
        return self.route(path, ["GET"], name=name, **meta)

    def head(self, path: str, *, name: str | None = None, **meta: Any) -> Callable[[H], H]:
        return self.route(path, ["HEAD"], name=name, **meta)

    def post(self, path: str, *, name: str | None = None, **meta: Any) -> Callable[[H], H]:
        return self.route(path, ["POST"], name=name, **meta)

    def put(self, path: str, *, name: str | None = None, **meta: Any) -> Callable[[H], H]:
        return self.route(path, ["PUT"], name=name, **meta)

    def patch(self, path: str, *, name: str | None = None, **meta: Any) -> Callable[[H], H]:
        return self.route(path, ["PATCH"], name=name, **meta)

    def delete(self, path: str, *, name: str | None = None, **meta: Any) -> Callable[[H], H]:
        return self.route(path, ["DELETE"], name=name, **meta)

    def options(self, path: str, *, name: str | None = None, **meta: Any) -> Callable[[H], H]:
        return self.route(path, ["OPTIONS"], name=name, **meta)
