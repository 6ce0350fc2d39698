"""``RedisStore``: the ``Store`` protocol on Redis (redis-py asyncio), for many workers."""

from __future__ import annotations

from typing import Any

__all__ = ["RedisStore"]

# INCRBY, and set the expiry only when the key was just created (one round trip, atomic).
_INCR_SCRIPT = """
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if tonumber(ARGV[2]) > 0 and v == tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return v
"""


class RedisStore:
    """A store backed by Redis; keys are prefixed with ``prefix``.

    Pass a URL (``redis://127.0.0.1:6379/0``) or an existing ``redis.asyncio.Redis``.
    redis is imported lazily: install the ``qake-core[redis]`` extra.
    """

    def __init__(
        self, url: str | None = None, *, client: Any = None, prefix: str = "qake:"
    ) -> None:
        if client is None:
            try:
                import redis.asyncio as aioredis
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise ImportError(
                    "RedisStore needs the redis package: pip install 'qake-core[redis]'"
                ) from exc
            client = aioredis.Redis.from_url(url or "redis://127.0.0.1:6379/0")
        self.client = client
        self.prefix = prefix
        self._incr: Any = None

    async def get(self, key: str) -> bytes | None:
        value = await self.client.get(self.prefix + key)
        return None if value is None else bytes(value)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        px = None if ttl is None else max(int(ttl * 1000), 1)
        await self.client.set(self.prefix + key, value, px=px)

    async def delete(self, key: str) -> None:
        await self.client.delete(self.prefix + key)

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        if self._incr is None:
            self._incr = self.client.register_script(_INCR_SCRIPT)
        px = 0 if ttl is None else max(int(ttl * 1000), 1)
        return int(await self._incr(keys=[self.prefix + key], args=[amount, px]))

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()
