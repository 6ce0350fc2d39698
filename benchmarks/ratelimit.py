"""Rate limiting's cost in-process: S2 (``GET /json``) plain and behind a ``RateLimit``.

Each variant is measured with ``qake_testing.ameasure`` (no sockets, no server) in a
fresh event loop per run, the variants taking turns run after run; the table shows the median µs/request of the runs' medians and
the added cost over plain S2. The limit is never reached (a huge quota): this is the
price of the check and its headers on every request, not of a 429.

    python benchmarks/ratelimit.py            # ~20 s
    python benchmarks/ratelimit.py --quick    # a few seconds
    python benchmarks/ratelimit.py --runs 7 --n 5000

Redis variants need a Redis at 127.0.0.1:6379 (they are reported unavailable otherwise):
each request is one EVALSHA round trip over loopback, which dominates their cost.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable
from typing import Any

import anyio

from qake_core import MemoryStore, RedisStore, Store
from qake_security import RateLimit, RateLimitMiddleware
from qake_testing import ameasure
from qakeapi import QakeAPI, Request, Response

REDIS_URL = "redis://127.0.0.1:6379/0"
HUGE = "1000000000/day"  # never reached: every request pays the check, none a 429
PLAINTEXT = "Hello, World!"


async def noop_dependency(request: Request, response: Response) -> None:
    """What any dependency taking the request and the sub-response costs (the reference
    for the dependency's own share)."""


def s2_app(limit: RateLimit | None = None, middleware: bool = False, noop: bool = False) -> QakeAPI:
    """qakeapi's S2 app (``benchmarks/apps/qakeapi_app.py``): ``GET /json``."""
    app = QakeAPI()
    dependencies: list[Any] = [limit] if limit is not None and not middleware else []
    if noop:
        dependencies.append(noop_dependency)

    @app.get("/json", dependencies=dependencies)
    async def json_() -> dict[str, str]:
        return {"message": PLAINTEXT}

    if limit is not None and middleware:
        app.add_middleware(RateLimitMiddleware, limit=limit)
    return app


def redis_store() -> RedisStore:
    return RedisStore(REDIS_URL, prefix=f"qake-bench-rl-{os.urandom(4).hex()}:")


#: name → (store factory or None for no limit, as middleware?)
VARIANTS: dict[str, tuple[Callable[[], Store] | None, bool]] = {
    "S2 plain": (None, False),
    "S2 + a no-op dependency (request, response): reference": (None, False),
    "S2 + RateLimit dependency, MemoryStore": (MemoryStore, False),
    "S2 + RateLimitMiddleware, MemoryStore": (MemoryStore, True),
    "S2 + RateLimit dependency, RedisStore": (redis_store, False),
    "S2 + RateLimitMiddleware, RedisStore": (redis_store, True),
}


async def one_run(variant: str, n: int) -> float:
    make_store, middleware = VARIANTS[variant]
    store = make_store() if make_store is not None else None
    limit = None if store is None else RateLimit(HUGE, store=store)
    app = s2_app(limit, middleware, noop="no-op" in variant)
    try:
        result = await ameasure(app, "GET", "/json", n, warmup=200, expect_status=200)
    finally:
        if isinstance(store, RedisStore):
            keys = [k async for k in store.client.scan_iter(match=store.prefix + "*")]
            if keys:
                await store.client.delete(*keys)
            await store.aclose()
    return result.median_us


def redis_available() -> bool:
    async def ping() -> bool:
        store = RedisStore(REDIS_URL)
        try:
            with anyio.fail_after(1):
                return bool(await store.client.ping())
        except Exception:
            return False
        finally:
            await store.aclose()

    return anyio.run(ping)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per variant (default 5)")
    parser.add_argument("--n", type=int, default=3000, help="requests per run (default 3000)")
    parser.add_argument("--quick", action="store_true", help="3 runs of 1000 requests")
    args = parser.parse_args(argv)
    runs, n = (3, 1000) if args.quick else (args.runs, args.n)
    with_redis = redis_available()
    measured = [v for v in VARIANTS if with_redis or "Redis" not in v]
    medians: dict[str, list[float]] = {v: [] for v in measured}
    for _ in range(runs):  # round-robin: drift in the machine's load hits every variant
        for variant in measured:
            medians[variant].append(anyio.run(one_run, variant, n))
    rows: list[tuple[str, float | None]] = [
        (v, statistics.median(medians[v]) if v in medians else None) for v in VARIANTS
    ]
    plain = rows[0][1]
    assert plain is not None
    print(
        f"Rate limiting in-process (qake_testing.ameasure; median of {runs} runs of {n} requests)"
    )
    print()
    print("| variant | µs/request | added µs |")
    print("|---|---:|---:|")
    for variant, value in rows:
        if value is None:
            print(f"| {variant} | unavailable (no Redis on 127.0.0.1:6379) | |")
        else:
            added = "" if variant == rows[0][0] else f"{value - plain:+.1f}"
            print(f"| {variant} | {value:.1f} | {added} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
