"""``Presence``: who is in a room, kept on a qake-core ``Store``."""

from __future__ import annotations

import time

import orjson

from qake_core import Store

__all__ = ["Presence"]


class Presence:
    """Room membership on any :class:`qake_core.Store` (memory or Redis).

    Each member is one key ``{prefix}{room}:m:{member}`` with a ``ttl`` (call
    :meth:`join` again, e.g. from a heartbeat, to stay present: a crashed worker's
    members vanish after ``ttl`` seconds). The room also keeps a list of member names
    under ``{prefix}{room}`` so :meth:`members` can find them; the Store protocol has
    no scan nor set operations, so that list is read-modify-written. Limits: two
    processes joining the same room at the same instant can lose one name from the
    list (that member reappears on its next :meth:`join`); rooms are meant for tens to
    a few thousand members, since the list is one value.
    """

    def __init__(
        self, store: Store, *, ttl: float = 60.0, prefix: str = "qake-ws:presence:"
    ) -> None:
        if ttl <= 0:
            raise ValueError(f"ttl must be > 0 seconds, got {ttl}")
        self.store = store
        self.ttl = ttl
        self.prefix = prefix

    def _room_key(self, room: str) -> str:
        return f"{self.prefix}{room}"

    def _member_key(self, room: str, member: str) -> str:
        return f"{self.prefix}{room}:m:{member}"

    async def _names(self, room: str) -> list[str]:
        raw = await self.store.get(self._room_key(room))
        if raw is None:
            return []
        names = orjson.loads(raw)
        return [name for name in names if isinstance(name, str)]

    async def join(self, room: str, member: str) -> None:
        """Mark ``member`` present in ``room`` for the next ``ttl`` seconds."""
        await self.store.set(self._member_key(room, member), str(time.time()).encode(), self.ttl)
        names = await self._names(room)
        if member not in names:
            names.append(member)
        # Always written: a join refreshes the list's ttl along with the member's.
        await self.store.set(self._room_key(room), orjson.dumps(names), self.ttl)

    async def leave(self, room: str, member: str) -> None:
        """``member`` left ``room`` (no error if it was not there)."""
        await self.store.delete(self._member_key(room, member))
        names = await self._names(room)
        if member in names:
            names.remove(member)
            await self._save(room, names)

    async def members(self, room: str) -> list[str]:
        """The members present in ``room`` (their ttl not yet expired), in join order."""
        names = await self._names(room)
        present = [n for n in names if await self.store.get(self._member_key(room, n)) is not None]
        if len(present) != len(names):
            await self._save(room, present)  # forget the expired ones
        return present

    async def _save(self, room: str, names: list[str]) -> None:
        if names:
            await self.store.set(self._room_key(room), orjson.dumps(names), self.ttl)
        else:
            await self.store.delete(self._room_key(room))
