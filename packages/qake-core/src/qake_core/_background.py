"""Background tasks: work that runs after the response has been sent."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from qake_core._concurrency import run_in_threadpool

__all__ = ["BackgroundTasks"]

logger = logging.getLogger("qake.background")


class BackgroundTasks:
    """A list of calls to make after the response is sent.

    Tasks run in order. A task that raises is logged with its traceback and does
    not stop the ones after it. Sync callables run in a worker thread.
    """

    __slots__ = ("tasks",)

    def __init__(self) -> None:
        self.tasks: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def add_task(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Schedule ``func(*args, **kwargs)``."""
        self.tasks.append((func, args, kwargs))

    def __len__(self) -> int:
        return len(self.tasks)

    async def __call__(self) -> None:
        while self.tasks:
            func, args, kwargs = self.tasks.pop(0)
            try:
                if inspect.iscoroutinefunction(func):
                    await func(*args, **kwargs)
                else:
                    result = await run_in_threadpool(func, *args, **kwargs)
                    if inspect.isawaitable(result):
                        await result
            except Exception:
                logger.exception("background task %r failed", getattr(func, "__name__", func))
