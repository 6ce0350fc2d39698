"""RedisBroadcast on real Redis: two instances (two "processes") share a channel, a
publish during an outage fails clearly, and a Redis server really stopped and started
again gets the subscriptions back. The restart uses a private ``redis-server`` on a free
port; the shared server on 6379 is never stopped. asyncio only (redis-py's client)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Any

import pytest
from redis_process import RedisProcess, redis_answers

from qake_core import RedisStore
from qake_ws import (
    BroadcastUnavailable,
    Presence,
    RedisBroadcast,
    Subscriber,
    SubscriberDropped,
)

pytest.importorskip("redis", reason="RedisBroadcast needs redis-py (qake-ws[redis])")

SHARED_URL = "redis://127.0.0.1:6379/0"


needs_shared_redis = pytest.mark.skipif(
    not redis_answers("127.0.0.1", 6379), reason="no Redis answers on 127.0.0.1:6379"
)


async def next_message(subscriber: Subscriber, timeout: float = 5) -> Any:
    async with asyncio.timeout(timeout):
        return await anext(subscriber)


def unique(name: str) -> str:
    return f"test-{name}-{time.monotonic_ns()}:"


@needs_shared_redis
def test_a_message_published_in_one_process_reaches_both() -> None:
    prefix = unique("two")

    async def main() -> None:
        async with (
            RedisBroadcast(SHARED_URL, prefix=prefix) as one,
            RedisBroadcast(SHARED_URL, prefix=prefix) as two,
            one.subscribe("room") as a1,
            one.subscribe("room") as a2,
            two.subscribe("room") as b,
            two.subscribe("other") as b_other,
        ):
            await one.publish("room", {"from": "one"})
            await two.publish("room", b"\x00raw")
            await two.publish("room", "text")
            for sub in (a1, a2, b):
                assert [await next_message(sub) for _ in range(3)] == [
                    {"from": "one"},
                    b"\x00raw",
                    "text",
                ]
            await one.publish("other", "x")
            assert await next_message(b_other) == "x"
            assert "@" not in repr(one)
        assert asyncio.all_tasks() == {asyncio.current_task()}  # readers stopped

    asyncio.run(main())


@needs_shared_redis
def test_a_slow_subscriber_is_dropped_others_keep_receiving() -> None:
    prefix = unique("slow")

    async def main() -> None:
        async with (
            RedisBroadcast(SHARED_URL, prefix=prefix, max_queue=3) as here,
            RedisBroadcast(SHARED_URL, prefix=prefix) as there,
            here.subscribe("c") as slow,
            here.subscribe("c", max_queue=100) as fast,
            there.subscribe("c") as remote,
        ):
            for i in range(10):
                await there.publish("c", i)
            assert [await next_message(fast) for _ in range(10)] == list(range(10))
            assert [await next_message(remote) for _ in range(3)] == [0, 1, 2]
            assert slow.dropped
            with pytest.raises(SubscriberDropped):
                await next_message(slow)
            await here.publish("c", "still")
            assert await next_message(fast) == "still"
            assert here.subscriber_count("c") == 1

    asyncio.run(main())


@needs_shared_redis
def test_unsubscribe_when_the_last_local_subscriber_leaves() -> None:
    prefix = unique("unsub")

    async def main() -> None:
        broadcast = RedisBroadcast(SHARED_URL, prefix=prefix)
        async with broadcast:
            assert broadcast._redis is not None
            async with broadcast.subscribe("c"):
                assert await broadcast._redis.pubsub_numsub(prefix + "c") == [
                    ((prefix + "c").encode(), 1)
                ]
            for _ in range(100):
                counts = await broadcast._redis.pubsub_numsub(prefix + "c")
                if counts[0][1] == 0:
                    break
                await asyncio.sleep(0.02)
            assert counts[0][1] == 0

    asyncio.run(main())


def test_redis_restart_keeps_subscriptions(
    redis_process: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="qake_ws.broadcast")

    async def main() -> None:
        broadcast = RedisBroadcast(redis_process.url, min_backoff=0.02, max_backoff=0.2)
        async with broadcast, broadcast.subscribe("news") as sub:
            await broadcast.publish("news", "before")
            assert await next_message(sub) == "before"

            await asyncio.to_thread(redis_process.stop)
            with pytest.raises(BroadcastUnavailable, match="'news'"):
                await broadcast.publish("news", "during")
            await asyncio.sleep(0.5)  # the reader notices and keeps retrying
            # a subscription taken during the outage is made once Redis is back
            late_cm = broadcast.subscribe("late")
            late = await late_cm.__aenter__()
            await asyncio.to_thread(redis_process.start)

            # once the reader has subscribed again, publishing reaches the subscriber
            async with asyncio.timeout(10):
                while True:
                    try:
                        await broadcast.publish("news", "after")
                    except BroadcastUnavailable:
                        pass
                    try:
                        assert await next_message(sub, timeout=0.2) == "after"
                        break
                    except TimeoutError:
                        continue
            await broadcast.publish("late", {"ok": True})
            assert await next_message(late) == {"ok": True}
            await late_cm.__aexit__(None, None, None)
        lost = [r for r in caplog.records if "connection lost" in r.getMessage()]
        back = [r for r in caplog.records if "reconnected" in r.getMessage()]
        assert len(lost) == 1  # once per outage, not once per retry
        assert len(back) == 1
        assert redis_process.url.rpartition("@")[2] in lost[0].getMessage()

    asyncio.run(main())


def test_the_first_publish_after_a_redis_restart_is_not_lost(
    redis_process: RedisProcess,
) -> None:
    """The publishing connection Redis dropped is replaced on first use, not reported."""

    async def main() -> None:
        broadcast = RedisBroadcast(redis_process.url, min_backoff=0.02, max_backoff=0.2)
        async with broadcast:
            await broadcast.publish("news", "before")  # the pooled connection exists
            await asyncio.to_thread(redis_process.stop)
            await asyncio.to_thread(redis_process.start)  # returns once Redis answers
            await broadcast.publish("news", "after")  # no BroadcastUnavailable

    asyncio.run(main())


@needs_shared_redis
def test_presence_on_a_redis_store() -> None:
    async def main() -> None:
        store = RedisStore(SHARED_URL)
        try:
            presence = Presence(store, ttl=30, prefix=unique("presence"))
            await presence.join("room", "ann")
            await presence.join("room", "bob")
            assert await presence.members("room") == ["ann", "bob"]
            await presence.leave("room", "ann")
            assert await presence.members("room") == ["bob"]
            await presence.leave("room", "bob")
        finally:
            await store.aclose()

    asyncio.run(main())


def test_redis_broadcast_refuses_a_non_asyncio_loop() -> None:
    trio = pytest.importorskip("trio")

    async def main() -> None:
        with pytest.raises(RuntimeError, match="asyncio"):
            await RedisBroadcast(SHARED_URL).connect()

    trio.run(main)


def test_connect_fails_clearly_when_redis_is_down() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])  # nothing listens there once closed

    async def main() -> None:
        broadcast = RedisBroadcast(f"redis://user:secret@127.0.0.1:{port}/0")
        with pytest.raises(BroadcastUnavailable) as info:
            await broadcast.connect()
        assert "secret" not in str(info.value)
        assert not broadcast.connected

    asyncio.run(main())
