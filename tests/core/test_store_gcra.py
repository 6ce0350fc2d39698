"""``Store.gcra``: one atomic GCRA step, on ``MemoryStore`` and on a real Redis."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import anyio
import pytest

from qake_core import GCRAResult, MemoryStore, RedisStore, Store

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def redis_store() -> AsyncIterator[RedisStore]:
    store = RedisStore(REDIS_URL, prefix=f"qake-test-gcra-{os.urandom(4).hex()}:")
    try:
        await store.client.ping()
    except Exception as exc:  # pragma: no cover - environment
        await store.aclose()
        pytest.skip(f"Redis on 127.0.0.1:6379 is not reachable: {exc}")
    try:
        yield store
    finally:
        keys = [k async for k in store.client.scan_iter(match=store.prefix + "*")]
        if keys:
            await store.client.delete(*keys)
        await store.aclose()


async def burst_then_refuse(store: Store) -> None:
    """Three at once out of a burst of 3 (remaining 2, 1, 0), then refused with the
    wait of one interval; a refused request changes nothing."""
    results = [await store.gcra("k", 10.0, 3) for _ in range(3)]
    assert [r.allowed for r in results] == [True, True, True]
    assert [r.remaining for r in results] == [2, 1, 0]
    assert results[0].retry_after == 0.0
    assert 9.9 < results[0].reset_after <= 10.0
    assert 29.9 < results[2].reset_after <= 30.0
    refused = await store.gcra("k", 10.0, 3)
    assert refused.allowed is False
    assert refused.remaining == 0
    assert 9.9 < refused.retry_after <= 10.0
    assert 29.9 < refused.reset_after <= 30.0
    again = await store.gcra("k", 10.0, 3)
    assert again.allowed is False
    assert 9.9 < again.retry_after <= 10.0
    # Another key is another bucket.
    assert (await store.gcra("other", 10.0, 3)).remaining == 2


async def refills(store: Store) -> None:
    """Capacity comes back one interval at a time."""
    assert (await store.gcra("r", 0.2, 1)).allowed
    refused = await store.gcra("r", 0.2, 1)
    assert not refused.allowed
    assert 0 < refused.retry_after <= 0.2
    await anyio.sleep(refused.retry_after + 0.02)
    assert (await store.gcra("r", 0.2, 1)).allowed


async def costs(store: Store) -> None:
    """``cost`` takes several units at once; ``cost=0`` only reads."""
    first = await store.gcra("c", 10.0, 5, cost=2)
    assert first.allowed
    assert first.remaining == 3
    peek = await store.gcra("c", 10.0, 5, cost=0)
    assert peek.allowed
    assert peek.remaining == 3
    assert (await store.gcra("c", 10.0, 5, cost=3)).remaining == 0
    assert not (await store.gcra("c", 10.0, 5, cost=1)).allowed
    peek = await store.gcra("c", 10.0, 5, cost=0)
    assert peek.allowed
    assert peek.remaining == 0


async def atomic_under_concurrency(store: Store) -> None:
    """Fifty concurrent steps on a burst of 10: exactly ten are allowed."""
    outcomes: list[bool] = []

    async def one() -> None:
        outcomes.append((await store.gcra("burst", 60.0, 10)).allowed)

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(one)
    assert outcomes.count(True) == 10


async def refuses_bad_arguments(store: Store) -> None:
    for interval, burst, cost in [
        (0, 1, 1),
        (-1, 1, 1),
        (float("inf"), 1, 1),
        (1, 0, 1),
        (1, 2, 3),
    ]:
        with pytest.raises(ValueError, match="gcra"):
            await store.gcra("bad", interval, burst, cost)
    with pytest.raises(ValueError, match="cost"):
        await store.gcra("bad", 1.0, 2, cost=-1)


SCENARIOS = [burst_then_refuse, refills, costs, atomic_under_concurrency, refuses_bad_arguments]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
async def test_memory_gcra(anyio_backend: str, scenario: object) -> None:
    store = MemoryStore()
    assert isinstance(store, Store)
    await scenario(store)  # type: ignore[operator]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_memory_gcra_key_expires_at_its_tat(anyio_backend: str) -> None:
    """A full bucket needs no state: the one stored value goes when its TAT passes, so
    memory stays bounded by the clients of the last window."""
    store = MemoryStore()
    result = await store.gcra("e", 0.05, 2)
    assert isinstance(result, GCRAResult)
    assert result.allowed
    assert len(store) == 1
    assert await store.get("e") is not None
    await anyio.sleep(result.reset_after + 0.02)
    assert await store.get("e") is None
    assert len(store) == 0
    # A refused request stores nothing new either.
    store2 = MemoryStore()
    await store2.gcra("x", 10.0, 1)
    await store2.gcra("x", 10.0, 1)
    assert len(store2) == 1


@pytest.mark.redis
@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # redis-py is asyncio-only
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
async def test_redis_gcra(anyio_backend: str, scenario: object, redis_store: RedisStore) -> None:
    assert isinstance(redis_store, Store)
    await scenario(redis_store)  # type: ignore[operator]


@pytest.mark.redis
@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_redis_gcra_one_value_on_redis_clock(
    anyio_backend: str, redis_store: RedisStore
) -> None:
    """The key holds one integer, the TAT in µs of Redis's own clock (TIME), and expires
    at it (PEXPIRE): no local clock takes part."""
    result = await redis_store.gcra("t", 10.0, 3)
    key = redis_store.prefix + "t"
    assert await redis_store.client.type(key) == b"string"
    tat = int(await redis_store.client.get(key))
    seconds, micros = await redis_store.client.time()
    now = seconds * 1_000_000 + micros
    assert 0 < tat - now <= 10_000_000
    pttl = await redis_store.client.pttl(key)
    assert 0 < pttl <= 10_000
    assert abs(pttl / 1000 - result.reset_after) < 0.5


@pytest.mark.redis
@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_redis_gcra_shared_by_two_clients(
    anyio_backend: str, redis_store: RedisStore
) -> None:
    """Two stores (two connection pools, as two workers have) on one prefix share the
    bucket: together they get the burst, no more."""
    other = RedisStore(REDIS_URL, prefix=redis_store.prefix)
    try:
        allowed = 0
        for i in range(10):
            store = redis_store if i % 2 else other
            allowed += (await store.gcra("shared", 60.0, 4)).allowed
        assert allowed == 4
    finally:
        await other.aclose()
