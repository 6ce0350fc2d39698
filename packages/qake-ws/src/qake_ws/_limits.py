"""Per-connection limits: a message-rate token bucket and the idle timeout's defaults."""

from __future__ import annotations

import asyncio
import time
from typing import Any

__all__ = [
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_MESSAGES_PER_SECOND",
    "AsyncioIdleWatch",
    "MessageRate",
    "check_idle_timeout",
    "check_rate",
]

#: Messages a connection may send per second, on average (bursts up to the same count).
DEFAULT_MAX_MESSAGES_PER_SECOND = 100.0
#: Seconds the app waits in ``receive*()`` for the next message before closing (1001).
DEFAULT_IDLE_TIMEOUT = 300.0


class MessageRate:
    """A token bucket: ``rate`` messages per second, up to ``burst`` at once.

    :meth:`take` spends one token and says whether one was left; tokens refill
    continuously with the monotonic clock (no task, no timer).
    """

    __slots__ = ("_stamp", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = rate if burst is None else burst
        self._tokens = self.burst
        self._stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if tokens < 1.0:
            self._tokens = tokens
            return False
        self._tokens = tokens - 1.0
        return True


def _positive_or_none(value: object, name: str, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{where}: {name} must be a positive number or None, got {value!r}")
    return float(value)


def check_rate(value: object, where: str) -> float | None:
    """Validate ``max_messages_per_second`` (``None``: no limit)."""
    rate = _positive_or_none(value, "max_messages_per_second", where)
    if rate is not None and rate < 1.0:
        raise ValueError(f"{where}: max_messages_per_second must be at least 1, got {value!r}")
    return rate


def check_idle_timeout(value: object, where: str) -> float | None:
    """Validate ``idle_timeout`` in seconds (``None``: wait forever)."""
    return _positive_or_none(value, "idle_timeout", where)


class AsyncioIdleWatch:
    """An idle timeout for one connection on asyncio, at O(1) cost per message.

    ``asyncio.timeout()`` or an anyio cancel scope per ``receive()`` costs 6-15 µs; here
    one timer handle lives across receives. Before each wait the reader sets
    ``deadline`` and ``waiter`` (its task), and clears ``waiter`` after it (PERF: plain
    attribute stores, inlined by ``WebSocket``); the timer, when it fires early,
    re-arms itself at the new deadline (a lazy timer). It cancels the waiting task only
    if that task is still waiting past the deadline; :meth:`expired` then tells that
    cancellation from any other.
    """

    __slots__ = ("_expired", "deadline", "handle", "loop", "timeout", "waiter")

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.loop = asyncio.get_running_loop()
        self.handle: asyncio.TimerHandle | None = None
        #: The task waiting for a message, or ``None``.
        self.waiter: asyncio.Task[Any] | None = None
        self._expired = False
        self.deadline = 0.0

    def start(self) -> None:
        """Set the timer (at ``deadline``) if it is not running."""
        if self.handle is None:
            self.handle = self.loop.call_at(self.deadline, self._fire)

    def expired(self) -> bool:
        """Whether the ``CancelledError`` being handled is this timeout's (it is then
        consumed: the task is no longer cancelled)."""
        task = asyncio.current_task(self.loop)
        if self._expired and task is not None and task.uncancel() == 0:
            self._expired = False
            return True
        return False

    def _fire(self) -> None:
        self.handle = None
        waiter = self.waiter
        if waiter is None:
            return  # not waiting: the next wait sets the timer again
        if self.loop.time() < self.deadline:
            self.handle = self.loop.call_at(self.deadline, self._fire)
            return
        self._expired = True
        waiter.cancel()

    def stop(self) -> None:
        """Drop the timer (the connection is over)."""
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
