"""``RedisStore``: the ``Store`` protocol on Redis (redis-py asyncio), for many workers."""

from __future__ import annotations

from typing import Any

from qake_core._stores import GCRAResult, check_gcra_args

__all__ = ["STORE_TIMEOUT", "RedisStore"]

#: Seconds a Redis connection attempt or command may take (``RedisStore(timeout=...)``).
STORE_TIMEOUT = 2.0

# INCRBY, and set the expiry only when the key was just created (one round trip, atomic).
_INCR_SCRIPT = """
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if tonumber(ARGV[2]) > 0 and v == tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return v
"""

# One GCRA step (see Store.gcra), in integer microseconds of Redis's own clock (TIME), so
# that every worker and host sharing the key shares one clock. Doubles hold integers
# exactly up to 2^53 µs (285 years of epoch time). The key holds the TAT and expires at it.
# ARGV: emission interval (µs), burst, cost. Returns {allowed, remaining, retry µs, reset µs}.
_GCRA_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then
  tat = now
end
local new_tat = tat + interval * cost
local allow_at = new_tat - interval * burst
if now < allow_at then
  return {0, math.floor((now - (tat - interval * burst)) / interval), allow_at - now, tat - now}
end
if cost > 0 then
  redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX',
    string.format('%d', math.ceil((new_tat - now) / 1000)))
end
return {1, math.floor((now - allow_at) / interval), 0, new_tat - now}
"""


class RedisStore:
    """A store backed by Redis; keys are prefixed with ``prefix``.

    Pass a URL (``redis://127.0.0.1:6379/0``) or an existing ``redis.asyncio.Redis``.
    redis is imported lazily: install the ``qake-core[redis]`` extra.

    ``timeout``: seconds a connection attempt or a command may take (for a client made
    from the URL; a client you pass keeps its own settings). redis-py waits forever by
    default, so a Redis that stops answering — a partition, not a refusal — would hold
    every request using the store; with the deadline they fail, and the sessions, rate
    limits and cache built on the store apply their outage policy.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Any = None,
        prefix: str = "qake:",
        timeout: float = STORE_TIMEOUT,
    ) -> None:
        if not timeout > 0:
            raise ValueError(
                f"RedisStore: timeout must be a positive number of seconds, got {timeout!r}"
            )
        if client is None:
            try:
                import redis.asyncio as aioredis
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise ImportError(
                    "RedisStore needs the redis package: pip install 'qake-core[redis]'"
                ) from exc
            client = aioredis.Redis.from_url(
                url or "redis://127.0.0.1:6379/0",
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
            )
        self.client = client
        self.prefix = prefix
        self._incr: Any = None
        self._gcra: Any = None

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

    async def gcra(
        self, key: str, emission_interval: float, burst: int, cost: int = 1
    ) -> GCRAResult:
        check_gcra_args(emission_interval, burst, cost)
        if self._gcra is None:
            self._gcra = self.client.register_script(_GCRA_SCRIPT)
        interval = max(round(emission_interval * 1e6), 1)
        allowed, remaining, retry, reset = await self._gcra(
            keys=[self.prefix + key], args=[interval, burst, cost]
        )
        return GCRAResult(bool(allowed), int(remaining), int(retry) / 1e6, int(reset) / 1e6)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()
