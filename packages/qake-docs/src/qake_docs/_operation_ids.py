"""``operationId``s: the route's own, its ``generate_unique_id_function``'s, or FastAPI's
default (handler name, path and method); two operations with one id are refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["OperationIds", "default_operation_id"]


def default_operation_id(route: Any, method: str) -> str:
    """``read_item_items__item_id__get``: FastAPI's default, so clients generated from a
    FastAPI document keep their method names."""
    return re.sub(r"\W", "_", f"{route.name}{route.routing.path_format}") + "_" + method.lower()


class OperationIds:
    """Hands out each operation's id and refuses a second operation with the same one.

    ``generate_unique_id_function(route)`` (route, router or app level, kept in
    ``route.meta``) returns one id per route, as FastAPI's; for a route serving several
    methods the method is appended so each operation keeps a distinct id.
    """

    def __init__(self) -> None:
        self.used: dict[str, str] = {}

    def assign(self, route: Any, method: str, where: str) -> str:
        operation_id = self.of(route, method)
        if operation_id in self.used:
            raise ValueError(
                f"OpenAPI: operationId {operation_id!r} is used by both "
                f"{self.used[operation_id]} and {where}; give one of them another "
                "operation_id= (or a generate_unique_id_function that tells them apart)"
            )
        self.used[operation_id] = where
        return operation_id

    @staticmethod
    def of(route: Any, method: str) -> str:
        if route.operation_id:
            return str(route.operation_id)
        generate: Callable[[Any], str] | None = route.meta.get("generate_unique_id_function")
        if generate is None:
            return default_operation_id(route, method)
        operation_id = str(generate(route))
        if len(route.methods) > 1:
            operation_id += "_" + method.lower()
        return operation_id
