"""Key-value stores with expiry, shared by the response cache, rate limits and sessions."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol, runtime_checkable

__all__ = ["MemoryStore", "Store"]


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

    def __len__(self) -> int:
        return len(self._data)
