"""``RedisStore(timeout=...)``: a Redis that stops answering (a partition: the connection
stays open, no reply comes) fails each command within the deadline instead of holding
the request forever — redis-py's own default is no deadline at all."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("redis", reason="RedisStore needs redis-py")

from qake_core import RedisStore
from qake_core._redis_store import STORE_TIMEOUT

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # redis-py's asyncio client


@pytest.fixture
def silent_server() -> Iterator[socket.socket]:
    """A listener whose kernel completes the handshake and which never reads or replies."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener
    listener.close()


async def test_a_silent_redis_fails_within_the_timeout(silent_server: socket.socket) -> None:
    port = silent_server.getsockname()[1]
    store = RedisStore(f"redis://127.0.0.1:{port}/0", timeout=0.3)
    started = time.monotonic()
    with pytest.raises(Exception) as raised:  # redis-py's TimeoutError
        await store.get("key")
    took = time.monotonic() - started
    await store.aclose()
    assert "Timeout" in type(raised.value).__name__, raised.value
    assert took < 3  # the deadline, not the minutes of TCP's own timeouts


def test_the_default_deadline_and_a_bad_one() -> None:
    store = RedisStore("redis://127.0.0.1:6379/0")
    kwargs = store.client.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == kwargs["socket_connect_timeout"] == STORE_TIMEOUT == 2.0
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
            RedisStore("redis://127.0.0.1:6379/0", timeout=bad)
