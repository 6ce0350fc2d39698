"""Track in-flight background work so that shutdown can wait for it (with a timeout)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio

from qake_core._lifespan import Lifespan

__all__ = ["InFlight", "draining"]

logger = logging.getLogger("qake.lifespan")


class InFlight:
    """A counter of running background work with an awaitable "all done"."""

    __slots__ = ("_event", "count")

    def __init__(self) -> None:
        self.count = 0
        self._event: anyio.Event | None = None

    def enter(self) -> None:
        self.count += 1

    def exit(self) -> None:
        self.count -= 1
        if self.count == 0 and self._event is not None:
            self._event.set()

    async def wait(self, timeout: float) -> bool:  # noqa: ASYNC109 - a deadline, not a cancel
        """Wait until nothing is in flight; ``False`` if ``timeout`` passed first."""
        if self.count == 0:
            return True
        self._event = anyio.Event()
        with anyio.move_on_after(timeout):
            await self._event.wait()
            return True
        return self.count == 0


def draining(lifespan: Lifespan, inflight: InFlight, timeout: float) -> Lifespan:
    """``lifespan``, but on shutdown first wait for in-flight background tasks."""

    @asynccontextmanager
    async def wrapped(app: Any) -> AsyncIterator[Mapping[str, Any] | None]:
        async with lifespan(app) as state:
            try:
                yield state
            finally:
                if not await inflight.wait(timeout):
                    logger.warning(
                        "shutdown: %d background task(s) still running after %.1fs; "
                        "not waiting any longer",
                        inflight.count,
                        timeout,
                    )

    return wrapped
