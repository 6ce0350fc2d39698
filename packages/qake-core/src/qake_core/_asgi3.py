"""An app whose ``__call__`` is a plain function returning the request's coroutine,
still taken for an ASGI 3 app by every server and adapter.

PERF: ``App.__call__`` and ``Dispatcher.dispatch`` return the route's coroutine instead
of awaiting it in a coroutine of their own: one coroutine fewer per request. Servers
tell ASGI 3 from ASGI 2 by asking whether ``app.__call__`` is a coroutine function:
uvicorn and asgiref with ``asyncio.iscoroutinefunction``, Hypercorn with
``inspect.iscoroutinefunction``, which before Python 3.12 knows no mark and answers yes
only for an ``async def``. So:

- :func:`asgi3` marks a plain function for ``asyncio`` (its ``_is_coroutine`` mark),
  ``inspect`` (3.12+: ``markcoroutinefunction``) and asgiref (``_asgi_single_callable``);
- :func:`introspect_as_async` gives an app *instance* an ``async def`` ``__call__``
  attribute. Reading ``app.__call__`` finds it (an instance attribute shadows the
  class's plain function), while calling ``app(scope, receive, send)`` goes through the
  class and runs the plain function: introspection sees ``async def`` on every Python,
  and requests pay nothing for it.
"""

from __future__ import annotations

import asyncio.coroutines
import inspect
import types
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["asgi3", "introspect_as_async"]

F = TypeVar("F", bound=Callable[..., Any])


def asgi3(func: F) -> F:
    """``func`` marked as a coroutine function and a single-callable ASGI 3 app."""
    mark = getattr(inspect, "markcoroutinefunction", None)
    if mark is not None:
        mark(func)
    legacy = getattr(asyncio.coroutines, "_is_coroutine", None)
    if legacy is not None:
        func._is_coroutine = legacy  # type: ignore[attr-defined]
    func._asgi_single_callable = True  # type: ignore[attr-defined]
    return func


async def _call_awaiting(app: Any, scope: Any, receive: Any, send: Any) -> None:
    """What ``app.__call__`` read on the instance runs: the class's ``__call__``,
    awaited (for a caller that calls the attribute it read)."""
    await type(app).__call__(app, scope, receive, send)


def introspect_as_async(app: object) -> None:
    """Give ``app`` an ``async def`` ``__call__`` attribute for servers to inspect;
    ``app(...)`` still runs its class's ``__call__`` directly."""
    vars(app)["__call__"] = types.MethodType(_call_awaiting, app)
