"""The ASGI lifespan protocol: a context manager yielding state, plus hooks."""

from __future__ import annotations

import inspect
import logging
import traceback
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from qake_core.types import Receive, Scope, Send

__all__ = ["Lifespan", "run_lifespan"]

logger = logging.getLogger("qake.lifespan")

Lifespan = Callable[[Any], AbstractAsyncContextManager[Mapping[str, Any] | None]]


async def _call_hook(hook: Callable[[], Any]) -> None:
    result = hook()
    if inspect.isawaitable(result):
        await result


def combine(
    lifespan: Lifespan | None,
    on_startup: Sequence[Callable[[], Any]],
    on_shutdown: Iterable[Callable[[], Any]],
) -> Lifespan:
    """One lifespan: startup hooks, then the context manager; on exit the reverse."""

    @asynccontextmanager
    async def combined(app: Any) -> AsyncIterator[Mapping[str, Any] | None]:
        for hook in on_startup:
            await _call_hook(hook)
        try:
            if lifespan is None:
                yield None
            else:
                async with lifespan(app) as state:
                    yield state
        finally:
            for hook in on_shutdown:
                await _call_hook(hook)

    return combined


async def run_lifespan(
    app: Any,
    lifespan: Lifespan,
    scope: Scope,
    receive: Receive,
    send: Send,
    before_startup: Callable[[], Any] | None = None,
    after_shutdown: Callable[[], Any] | None = None,
) -> None:
    """Speak the lifespan protocol; a startup failure is reported so the server exits."""
    started = False
    await receive()  # lifespan.startup
    try:
        if before_startup is not None:
            await _call_hook(before_startup)
        async with lifespan(app) as state:
            if state is not None:
                if "state" not in scope:
                    raise RuntimeError(
                        "the lifespan yielded state, but the server does not support "
                        "lifespan state (scope['state'] is missing)"
                    )
                scope["state"].update(state)
            await send({"type": "lifespan.startup.complete"})
            started = True
            await receive()  # lifespan.shutdown
    except BaseException:
        text = traceback.format_exc()
        if started:
            logger.error("shutdown failed:\n%s", text)
            await send({"type": "lifespan.shutdown.failed", "message": text})
        else:
            logger.error("startup failed:\n%s", text)
            await send({"type": "lifespan.startup.failed", "message": text})
        raise
    else:
        if after_shutdown is not None:
            await _call_hook(after_shutdown)
        await send({"type": "lifespan.shutdown.complete"})
