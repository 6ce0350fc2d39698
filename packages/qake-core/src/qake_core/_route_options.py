"""Hooks installed by route options: ``produces=[...]`` (406) and ``cache=...``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from qake_core._negotiation import produces_hook
from qake_core._route_containers import route_meta

if TYPE_CHECKING:
    from qake_core._middleware import HookMiddleware
    from qake_core._routing import APIRoute

__all__ = ["route_option_hooks"]

_CACHE_MODULE = "qake_core._cache"


def route_option_hooks(route: APIRoute) -> list[HookMiddleware]:
    """The hooks a route's options ask for, innermost last (after the route's own hooks).

    ``produces`` comes first so that a 406 is decided before the cache is consulted.
    """
    hooks: list[HookMiddleware] = []
    meta = route_meta(route)
    produces = meta.get("produces")
    if produces:
        hooks.append(produces_hook(list(produces)))
    option = meta.get("cache")
    # PERF: response caching loads with its first use: a ``cache=`` option, or the
    # ``@cache`` decorator (which is in _cache: a handler can only carry its options once
    # that module is loaded). An app that caches nothing does not load _cache and
    # _stores (-113 KiB tracemalloc per worker).
    if option is None and _CACHE_MODULE not in sys.modules:
        return hooks
    from qake_core._cache import cache_hook, route_cache_options

    try:
        options = route_cache_options(route.endpoint, option)
    except TypeError as exc:
        from qake_core._typed._analysis import route_label

        raise TypeError(f"{route_label(route)}: {exc}") from None
    if options is not None:
        key = f"{','.join(sorted(route.methods))} {route.path}"
        hooks.append(cache_hook(options, key))
    return hooks
