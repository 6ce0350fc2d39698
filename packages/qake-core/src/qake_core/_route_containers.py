"""An ``APIRoute``'s containers (``dependencies``, ``tags``, ``middleware``,
``responses``, ``meta``): created on first use when empty, read by the framework
without creating them.

PERF: most routes leave most of them empty, and an empty list or dict is 56-64 bytes:
a route keeps the ones it has, and reading an unset one (``route.tags``) creates it
then, so that a user's ``route.tags.append(...)`` works as on any list. Five fewer
objects per route: -576 KiB (tracemalloc, 4,241 -> 3,665 KiB) for the benchmarks' 2,000-route app.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qake_core._middleware import HookMiddleware
    from qake_core._routing import APIRoute

__all__ = [
    "CONTAINERS",
    "defer_empty_containers",
    "make_containers_on_use",
    "route_dependencies",
    "route_meta",
    "route_middleware",
    "route_responses",
    "route_tags",
]

#: The containers, by field name, and how an empty one is made.
CONTAINERS: Mapping[str, Callable[[], Any]] = MappingProxyType(
    {"dependencies": list, "tags": list, "middleware": list, "responses": dict, "meta": dict}
)

_NOTHING: tuple[Any, ...] = ()
_NO_KEYS: Mapping[Any, Any] = MappingProxyType({})
#: ``RouteSpec.responses`` of a route without any (a dict, read only, never written).
_NO_RESPONSES: dict[int | str, Any] = {}

#: The slots' own descriptors (``make_containers_on_use`` puts its own in their place).
_SLOTS: dict[str, Any] = {}


class _MadeOnUse:
    """A container field's descriptor: a slot holding ``None`` (left so when empty)
    reads as a new empty container, kept in it.

    NOTE: a descriptor per field, not ``__getattr__`` on the class: that would keep
    CPython from specialising every attribute read of a route (``route.handle`` is
    on the request path: +250 instructions per request on S3 and S5)."""

    __slots__ = ("make", "slot")

    def __init__(self, slot: Any, make: Callable[[], Any]) -> None:
        self.slot = slot
        self.make = make

    def __get__(self, route: Any, owner: Any = None) -> Any:
        if route is None:
            return self
        value = self.slot.__get__(route, owner)
        if value is None:
            value = self.make()
            self.slot.__set__(route, value)
        return value

    def __set__(self, route: Any, value: Any) -> None:
        self.slot.__set__(route, value)

    def __delete__(self, route: Any) -> None:
        self.slot.__delete__(route)


def make_containers_on_use(cls: type) -> None:
    """Give ``cls`` (``APIRoute``, once its dataclass slots exist) the descriptors."""
    for name, make in CONTAINERS.items():
        slot = cls.__dict__[name]
        _SLOTS[name] = slot
        setattr(cls, name, _MadeOnUse(slot, make))


def defer_empty_containers(route: APIRoute) -> None:
    """Leave ``None`` in ``route``'s empty containers' slots (its ``__post_init__``)."""
    for slot in _SLOTS.values():
        if not slot.__get__(route):
            slot.__set__(route, None)


def _declared(route: APIRoute, name: str, empty: Any) -> Any:
    # The slot itself: a container not made yet is not made by reading it here.
    value = _SLOTS[name].__get__(route)
    return empty if value is None else value


def route_dependencies(route: APIRoute) -> Sequence[Any]:
    """``route.dependencies``, read only."""
    return _declared(route, "dependencies", _NOTHING)  # type: ignore[no-any-return]


def route_tags(route: APIRoute) -> Sequence[str]:
    """``route.tags``, read only."""
    return _declared(route, "tags", _NOTHING)  # type: ignore[no-any-return]


def route_middleware(route: APIRoute) -> Sequence[HookMiddleware]:
    """``route.middleware``, read only."""
    return _declared(route, "middleware", _NOTHING)  # type: ignore[no-any-return]


def route_responses(route: APIRoute) -> dict[int | str, Any]:
    """``route.responses``, read only (an empty one shared by the routes without)."""
    return _declared(route, "responses", _NO_RESPONSES)  # type: ignore[no-any-return]


def route_meta(route: APIRoute) -> Mapping[str, Any]:
    """``route.meta``, read only."""
    return _declared(route, "meta", _NO_KEYS)  # type: ignore[no-any-return]
