"""Key-value stores with expiry, shared by the response cache, rate limits and sessions."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from typing import NamedTuple, Protocol, runtime_checkable

__all__ = ["GCRAResult", "MemoryStore", "Store"]


class GCRAResult(NamedTuple):
    """The outcome of one :meth:`Store.gcra` step (all durations in seconds).

    ``remaining`` is how many more requests of cost 1 would be allowed right now;
    ``retry_after`` is how long until this request would be allowed (0 when it was);
    ``reset_after`` is how long until the bucket is full again. A named tuple: it is
    made on every rate-limited request.
    """

    allowed: bool
    remaining: int
    retry_after: float
    reset_after: float


def check_gcra_args(emission_interval: float, burst: int, cost: int) -> None:
    """Refuse arguments no GCRA step can honour (a store calls this first)."""
    # PERF: one chained comparison for the usual, valid case (it runs per request).
    if 0 < emission_interval < math.inf and 0 <= cost <= burst and burst >= 1:
        return
    if not emission_interval > 0 or math.isinf(emission_interval):
        raise ValueError(f"gcra: emission_interval must be > 0 seconds, got {emission_interval}")
    if burst < 1:
        raise ValueError(f"gcra: burst must be at least 1, got {burst}")
    if not 0 <= cost <= burst:
        raise ValueError(f"gcra: cost must be between 0 and burst ({burst}), got {cost}")


@runtime_checkable
class Store(Protocol):
    """An async key-value store of bytes; ``ttl`` is in seconds (``None``: no expiry)."""

    async def get(self, key: str) -> bytes | None:
        """The value of ``key``, or ``None`` if missing or expired."""
        ...

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value`` under ``key``."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key`` (no error if missing)."""
        ...

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add ``amount`` to the integer at ``key`` (0 if missing) and return it.

        ``ttl`` applies when the key is created: the window of a rate-limit counter.
        """
        ...

    async def gcra(
        self, key: str, emission_interval: float, burst: int, cost: int = 1
    ) -> GCRAResult:
        """One atomic step of the Generic Cell Rate Algorithm on ``key``.

        The key holds one value, the theoretical arrival time (TAT); a request is
        allowed when ``cost`` more intervals fit in the tolerance ``burst *
        emission_interval`` ahead of now, and then the TAT moves on by ``cost``
        intervals. A refused request changes nothing. The key expires at its TAT (a
        full bucket needs no state). ``cost=0`` only reads the state.
        """
        ...


class MemoryStore:
    """A process-local store: bounded (least recently used entries go first), with expiry.

    Suitable for one worker process; use ``RedisStore`` to share across processes.
    All operations are O(1) and never await, so they are atomic under asyncio/trio.
    """

    __slots__ = ("_data", "max_entries")

    def __init__(self, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError("MemoryStore: max_entries must be at least 1")
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[bytes | int, float | None]] = OrderedDict()

    def _live(self, key: str) -> tuple[bytes | int, float | None] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        expires = entry[1]
        if expires is not None and expires <= time.monotonic():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return entry

    def _put(self, key: str, value: bytes | int, expires: float | None) -> None:
        data = self._data
        data[key] = (value, expires)
        data.move_to_end(key)
        while len(data) > self.max_entries:
            data.popitem(last=False)

    async def get(self, key: str) -> bytes | None:
        entry = self._live(key)
        if entry is None:
            return None
        value = entry[0]
        return str(value).encode() if isinstance(value, int) else value

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self._put(key, bytes(value), None if ttl is None else time.monotonic() + ttl)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        entry = self._live(key)
        if entry is None:
            expires = None if ttl is None else time.monotonic() + ttl
            current = 0
        else:
            raw, expires = entry
            current = raw if isinstance(raw, int) else int(raw)
        current += amount
        self._put(key, current, expires)
        return current

    async def gcra(
        self, key: str, emission_interval: float, burst: int, cost: int = 1
    ) -> GCRAResult:
        check_gcra_args(emission_interval, burst, cost)
        # Integer nanoseconds of the monotonic clock: exact arithmetic, so the last
        # request of a burst is never refused by a rounding error.
        now = time.monotonic_ns()
        interval = max(round(emission_interval * 1e9), 1)
        data = self._data
        entry = data.get(key)
        tat = now
        # PERF: no _live(): the entry expires at its TAT, so "expired" is "TAT <= now".
        if entry is not None and entry[0].__class__ is int and entry[0] > now:
            tat = entry[0]
        new_tat = tat + interval * cost
        allow_at = new_tat - interval * burst
        if now < allow_at:
            return GCRAResult(
                False,
                (now - (tat - interval * burst)) // interval,
                (allow_at - now) / 1e9,
                (tat - now) / 1e9,
            )
        if cost:
            data[key] = (new_tat, new_tat / 1e9)  # expires at the TAT (same clock)
            data.move_to_end(key)
            if len(data) > self.max_entries:
                data.popitem(last=False)
        return GCRAResult(True, (now - allow_at) // interval, 0.0, (new_tat - now) / 1e9)

    def __len__(self) -> int:
        return len(self._data)
