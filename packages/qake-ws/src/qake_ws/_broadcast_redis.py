"""``RedisBroadcast``: Redis pub/sub carries messages between processes and hosts."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from qake_ws._broadcast import (
    DEFAULT_MAX_QUEUE,
    Broadcast,
    BroadcastUnavailable,
    decode_message,
    encode_message,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

__all__ = ["RedisBroadcast"]

logger = logging.getLogger("qake_ws.broadcast")

_CONFIRM_TIMEOUT = 5.0  # seconds a subscribe() waits for Redis to confirm SUBSCRIBE
_POLL = 1.0  # seconds one get_message() waits before the loop checks its state again


def _redis_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (RedisConnectionError, RedisTimeoutError, OSError)


class RedisBroadcast(Broadcast):
    """Broadcast over Redis pub/sub (redis-py's asyncio client; asyncio only).

    One reader task per instance receives the channels this process has subscribers
    for and fans each message out locally. When Redis goes away the reader logs one
    warning, retries with exponential backoff (``min_backoff`` to ``max_backoff``
    seconds) and, once Redis answers again, subscribes to every channel again (and logs
    the recovery). Messages published during an outage are lost: ``publish`` raises
    :class:`BroadcastUnavailable` so the caller can decide (pub/sub keeps no history).
    Channel names are prefixed with ``prefix`` in Redis.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "qake-ws:",
        max_queue: int = DEFAULT_MAX_QUEUE,
        drop_code: int = 1013,
        min_backoff: float = 0.05,
        max_backoff: float = 2.0,
    ) -> None:
        super().__init__(max_queue=max_queue, drop_code=drop_code)
        self.url = url
        self.prefix = prefix
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self._errors: tuple[type[BaseException], ...] = ()
        self._stale: type[Exception] = OSError
        self._redis: Redis | None = None
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._confirmed: dict[str, asyncio.Event] = {}
        self._outage = False

    def __repr__(self) -> str:
        # NOTE: the URL may carry a password; show only where it points.
        host = self.url.rpartition("@")[2]
        return f"<RedisBroadcast {host!r} prefix={self.prefix!r}>"

    # -- backend hooks ---------------------------------------------------------------------

    async def _open(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "RedisBroadcast runs on asyncio (redis-py's client); "
                "use MemoryBroadcast under another event loop such as trio"
            ) from None
        try:
            from redis.asyncio import Redis
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "RedisBroadcast needs redis-py: pip install 'qake-ws[redis]'"
            ) from exc
        self._errors = _redis_errors()
        from redis.exceptions import ConnectionError as RedisConnectionError

        self._stale = RedisConnectionError
        self._redis = Redis.from_url(self.url)
        self._outage = False
        try:
            await self._connect_pubsub()
        except self._errors as exc:
            await self._redis.aclose()
            self._redis = None
            raise BroadcastUnavailable(
                f"cannot connect {self!r}: Redis is unreachable ({type(exc).__name__})"
            ) from None
        self._reader = asyncio.create_task(self._read_loop(), name="qake-ws broadcast reader")

    async def _close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        await self._drop_pubsub()
        self._confirmed.clear()
        client, self._redis = self._redis, None
        if client is not None:
            await client.aclose()

    async def _send(self, channel: str, message: Any) -> None:
        assert self._redis is not None
        payload = encode_message(message)
        try:
            try:
                await self._redis.publish(self.prefix + channel, payload)
            except self._stale:
                # A pooled connection Redis dropped (after a restart) fails on first use;
                # the pool then opens a fresh one. Not retried after a timeout: that
                # publish may have reached Redis.
                await self._redis.publish(self.prefix + channel, payload)
        except self._errors as exc:
            reason = type(exc).__name__
            raise BroadcastUnavailable(
                f"cannot publish to channel {channel!r}: Redis is unreachable ({reason})"
            ) from None

    async def _listen(self, channel: str) -> None:
        confirmed = self._confirmed.setdefault(channel, asyncio.Event())
        sent = False
        async with self._lock:
            if self._pubsub is not None:
                try:
                    await self._pubsub.subscribe(self.prefix + channel)
                    sent = True
                except self._errors:
                    pass  # the reader resubscribes every channel when Redis is back
        self._wake.set()
        if sent or not self._outage:
            # Wait for Redis's confirmation: a message published after subscribe()
            # returns must not be missed.
            try:
                await asyncio.wait_for(confirmed.wait(), _CONFIRM_TIMEOUT)
            except TimeoutError:
                pass

    async def _unlisten(self, channel: str) -> None:
        async with self._lock:
            if channel in self._channels:
                return  # a new local subscriber arrived while this one left
            self._confirmed.pop(channel, None)
            if self._pubsub is not None:
                try:
                    await self._pubsub.unsubscribe(self.prefix + channel)
                except self._errors:
                    pass  # a lost connection forgets its subscriptions anyway

    # -- the reader ------------------------------------------------------------------------

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            try:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            except Exception:  # a broken connection may fail to close
                logger.debug("closing a broken Redis pub/sub connection failed", exc_info=True)

    async def _connect_pubsub(self) -> None:
        assert self._redis is not None
        async with self._lock:
            pubsub = self._redis.pubsub()
            channels = [self.prefix + name for name in self._channels]
            try:
                if channels:
                    await pubsub.subscribe(*channels)
                else:
                    await pubsub.ping()  # prove Redis answers before calling it back
            except BaseException:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
                raise
            self._pubsub = pubsub

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        raw = message.get("channel")
        if kind not in ("message", "subscribe") or raw is None:
            return  # pong, unsubscribe: nothing to deliver
        name = (raw.decode("utf-8") if isinstance(raw, bytes) else raw)[len(self.prefix) :]
        if kind == "message":
            try:
                value = decode_message(message["data"])
            except ValueError:
                logger.warning("ignored a malformed message on broadcast channel %r", name)
                return
            self.fan_out(name, value)
        elif kind == "subscribe":
            event = self._confirmed.get(name)
            if event is not None:
                event.set()

    def _recovered(self) -> None:
        self._outage = False
        logger.warning("Redis broadcast %r: reconnected, subscriptions restored", self)

    async def _read_once(self) -> None:
        if self._pubsub is None:
            await self._connect_pubsub()
            if self._outage and not self._channels:
                self._recovered()  # _connect_pubsub's ping proved Redis answers
        pubsub = self._pubsub
        assert pubsub is not None
        if not pubsub.subscribed:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), _POLL)
            except TimeoutError:
                await pubsub.ping()  # notice an outage even while idle
            return
        message = await pubsub.get_message(timeout=_POLL)
        if self._outage:
            # NOTE: recovered once a read succeeds, not when SUBSCRIBE was written: right
            # after a restart the pool may hand out a connection the server already closed,
            # which fails on its first read (it was logged as a second outage).
            self._recovered()
        if message is not None:
            self._dispatch(message)

    async def _read_loop(self) -> None:
        backoff = self.min_backoff
        while True:
            try:
                await self._read_once()
                backoff = self.min_backoff
            except self._errors as exc:
                if not self._outage:
                    self._outage = True
                    logger.warning(
                        "Redis broadcast %r: connection lost (%s); reconnecting",
                        self,
                        type(exc).__name__,
                    )
                await self._drop_pubsub()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
