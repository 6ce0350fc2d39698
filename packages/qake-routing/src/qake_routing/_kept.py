"""Equal immutable values made at registration, kept once: a bounded table per kind."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

__all__ = ["kept"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def kept(table: dict[K, V], key: K, value: V, limit: int) -> V:
    """The value ``table`` keeps for ``key``, else ``value``, kept while
    ``table`` holds fewer than ``limit`` (the first distinct keys an app registers:
    bounded, as an app may build routes from data).

    PERF: routes share what they have in common (method sets, parameter names, path
    parameters) instead of each holding an equal copy: see the callers' figures."""
    found = table.get(key)
    if found is not None:
        return found
    if len(table) < limit:
        table[key] = value
    return value
