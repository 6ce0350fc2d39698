"""ASGI callables as the test client sees them.

The app is typed loosely on purpose: an app annotated with ``dict``, ``MutableMapping`` or
TypedDict scopes must all be accepted, and ``Callable`` parameters are contravariant.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeAlias

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[Any, Any, Any], Awaitable[Any]]
Address: TypeAlias = tuple[str, int]
