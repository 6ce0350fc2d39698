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

#: Loggers through which servers print a ``lifespan.*.failed`` message (uvicorn's).
SERVER_LOGGERS = ("uvicorn.error",)

#: The failure texts ``qake.lifespan`` logged and sent to the server (the last few).
_reported: list[str] = []


class _DropReportedFailure(logging.Filter):
    """Drop a server's record of a failure message ``qake.lifespan`` already logged
    (uvicorn logs the message text as is: the same string object)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(record.msg is text for text in _reported)


def _report(text: str, what: str) -> str:
    """Log ``text`` once on ``qake.lifespan``; the server that receives it in the
    failure message does not print it a second time."""
    logger.error("%s failed:\n%s", what, text)
    _reported[:] = [*_reported[-3:], text]
    for name in SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        if not any(isinstance(f, _DropReportedFailure) for f in server_logger.filters):
            server_logger.addFilter(_DropReportedFailure())
    return text


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
        # The message keeps the traceback (a test client shows it), printed once.
        if started:
            await send({"type": "lifespan.shutdown.failed", "message": _report(text, "shutdown")})
        else:
            await send({"type": "lifespan.startup.failed", "message": _report(text, "startup")})
        raise
    else:
        if after_shutdown is not None:
            await _call_hook(after_shutdown)
        await send({"type": "lifespan.shutdown.complete"})
