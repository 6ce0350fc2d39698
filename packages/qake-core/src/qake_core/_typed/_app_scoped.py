"""The values of ``scope="app"`` dependencies of one application, and their clean-ups.

The app owns one store (``App.app_scoped_values``) and closes it at the end of its
lifespan; the compiled routes resolve app-scoped dependencies into it. No pydantic
here: the app creates its store before any route is compiled.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any

import anyio

from qake_core._concurrency import run_in_threadpool

__all__ = ["AppScopedValues"]

logger = logging.getLogger("qake.error")


class AppScopedValues:
    """Values of ``scope="app"`` dependencies for one application, and their exits."""

    def __init__(self) -> None:
        self.values: dict[Any, Any] = {}
        self._exits: list[Callable[[], Any]] = []
        self._lock = anyio.Lock()

    async def get(self, key: Any, create: Callable[[], Any]) -> Any:
        """The value for ``key``, awaiting ``create()`` once (concurrent callers wait)."""
        try:
            return self.values[key]
        except KeyError:
            pass
        async with self._lock:
            if key not in self.values:
                self.values[key] = await create()
            return self.values[key]

    def push_async_exit(self, gen: AsyncGenerator[Any, None]) -> None:
        async def close() -> None:
            async with contextlib.aclosing(gen):
                with contextlib.suppress(StopAsyncIteration):
                    await gen.__anext__()

        self._exits.append(close)

    def push_sync_exit(self, gen: Generator[Any, None, None]) -> None:
        def step() -> None:
            with contextlib.closing(gen), contextlib.suppress(StopIteration):
                next(gen)

        async def close() -> None:
            await run_in_threadpool(step)

        self._exits.append(close)

    async def aclose(self) -> None:
        """Tear down (newest first); a failing exit is logged, the others still run."""
        exits, self._exits = self._exits, []
        self.values.clear()
        while exits:
            try:
                await exits.pop()()
            except Exception:
                logger.exception("app-scoped dependency clean-up failed")
