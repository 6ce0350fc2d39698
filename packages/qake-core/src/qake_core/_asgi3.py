"""Marking a plain function that returns the request's coroutine as an ASGI 3 app.

PERF: ``App.__call__`` and ``Dispatcher.dispatch`` are plain functions that return the
route's coroutine instead of awaiting it in a coroutine of their own: one coroutine
fewer per request. Servers and adapters tell ASGI 3 from ASGI 2 by asking whether the
callable is a coroutine function; the marks below make them answer yes, as they do for
``async def``.
"""

from __future__ import annotations

import asyncio.coroutines
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["asgi3"]

F = TypeVar("F", bound=Callable[..., Any])


def asgi3(func: F) -> F:
    """``func`` marked as a coroutine function and a single-callable ASGI 3 app.

    - ``inspect.markcoroutinefunction`` (Python 3.12+): ``inspect.iscoroutinefunction``
      and ``asyncio.iscoroutinefunction`` (what uvicorn asks on 3.14 and before);
    - ``asyncio``'s ``_is_coroutine`` mark: ``asyncio.iscoroutinefunction`` on 3.11;
    - ``_asgi_single_callable``: asgiref's ``guarantee_single_callable`` (OpenTelemetry's
      middleware calls it on the app it wraps).
    """
    mark = getattr(inspect, "markcoroutinefunction", None)
    if mark is not None:
        mark(func)
    legacy = getattr(asyncio.coroutines, "_is_coroutine", None)
    if legacy is not None:
        func._is_coroutine = legacy  # type: ignore[attr-defined]
    func._asgi_single_callable = True  # type: ignore[attr-defined]
    return func
