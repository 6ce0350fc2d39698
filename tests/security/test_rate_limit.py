"""Rate limiting: GCRA on the Store protocol, keyed by client/user/API key and route
template, with the IETF RateLimit fields, a shared Redis limit, and store outages."""

from __future__ import annotations

import logging
import os
from typing import Any

import anyio
import httpx
import pytest

from qake_core import GCRAResult, MemoryStore, RedisStore, Store
from qake_core.types import ASGIApp, Receive, Scope, Send
from qake_security import (
    RateLimit,
    RateLimitMiddleware,
    SimpleUser,
    by_api_key,
    by_client,
    by_user,
    set_user,
)
from qakeapi import Depends, QakeAPI, Request, Router
from qakeapi.testing import TestClient

QUOTA_EXCEEDED = "https://iana.org/assignments/http-problem-types#quota-exceeded"
REDIS_URL = "redis://127.0.0.1:6379/0"


def app_with(*dependencies: Any, **options: Any) -> tuple[QakeAPI, list[str]]:
    """An app whose routes record each handler call (a refused request never runs it)."""
    calls: list[str] = []
    app = QakeAPI(dependencies=list(dependencies), **options)

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        calls.append(f"item {item_id}")
        return {"id": item_id}

    @app.get("/other")
    async def other() -> dict[str, str]:
        calls.append("other")
        return {"ok": "other"}

    return app, calls


def statuses(client: TestClient, path: str, n: int, **kwargs: Any) -> list[int]:
    return [client.get(path, **kwargs).status_code for _ in range(n)]


# -- configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "options", "message"),
    [
        ("100/fortnight", {}, "not a rate; write '<count>/<period>'"),
        ("100", {}, "e.g. '100/minute'"),
        ("0/minute", {}, "allows nothing"),
        ("5/ms", {}, "not a rate"),
        ("10/minute", {"burst": 0}, "burst must be a whole number >= 1"),
        ("10/minute", {"cost": 11}, "cost must be between 1 and burst"),
        ("10/minute", {"on_store_error": "ignore"}, "use 'open'"),
        ("10/minute", {"name": 'bad\nname"'}, "printable ASCII"),
    ],
)
def test_bad_configuration_fails_at_startup_naming_the_fix(
    rate: str, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        RateLimit(rate, **options)


def test_rates_in_every_spelling() -> None:
    def policy(rate: str) -> str:
        return RateLimit(rate).policy

    assert policy("100/minute") == '"100/minute";q=100;w=60'
    assert policy("100 per hour") == '"100 per hour";q=100;w=3600'
    assert policy("10/30 seconds") == '"10/30 seconds";q=10;w=30'
    assert policy("5/2h") == '"5/2h";q=5;w=7200'
    assert policy("1/DAY") == '"1/DAY";q=1;w=86400'
    assert RateLimit("9/minute", name='a "q"').policy == '"a \\"q\\"";q=9;w=60'
    with pytest.raises(TypeError, match="string like '100/minute'"):
        RateLimit(100)  # type: ignore[arg-type]


# -- a route's limit, its fields and its 429 ------------------------------------------------


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_route_limit_fields_on_every_answer_and_exact_retry_after(backend: str) -> None:
    app, calls = app_with()
    limit = RateLimit("3/minute")

    @app.get("/limited", dependencies=[limit])
    async def limited() -> dict[str, bool]:
        calls.append("limited")
        return {"ok": True}

    with TestClient(app, backend=backend) as client:  # type: ignore[arg-type]
        for remaining in (2, 1, 0):
            r = client.get("/limited")
            assert r.status_code == 200
            assert r.headers["ratelimit-policy"] == '"3/minute";q=3;w=60'
            name, r_param, t_param = r.headers["ratelimit"].split(";")
            assert name == '"3/minute"'
            assert r_param == f"r={remaining}"
            # t: seconds until the quota is whole again (20 s per spent request).
            assert t_param == f"t={20 * (3 - remaining)}"
            assert "retry-after" not in r.headers
        refused = client.get("/limited")
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        # GCRA: one request comes back every 60/3 = 20 s; ceil(19.99...) == 20.
        assert refused.headers["retry-after"] == "20"
        assert refused.headers["ratelimit"] == '"3/minute";r=0;t=20'
        assert refused.headers["ratelimit-policy"] == '"3/minute";q=3;w=60'
        body = refused.json()
        assert body["type"] == QUOTA_EXCEEDED
        assert body["status"] == 429
        assert body["violated-policies"] == ["3/minute"]
        # Unlimited routes carry no fields.
        assert "ratelimit" not in client.get("/other").headers
    assert calls.count("limited") == 3


def test_limits_key_by_route_template_not_raw_path() -> None:
    limit = RateLimit("2/minute")
    app, calls = app_with(limit)
    with TestClient(app) as client:
        assert client.get("/items/1").status_code == 200
        assert client.get("/items/2").status_code == 200
        # /items/1, /items/2 and /items/anything share GET /items/{item_id}.
        assert client.get("/items/3").status_code == 429
        assert client.get("/items/%2e%2e").status_code == 429
        assert client.head("/items/4").status_code == 429  # HEAD shares GET's quota
        # Another route has its own quota under the same (app-level) limit.
        assert statuses(client, "/other", 3) == [200, 200, 429]
    assert calls == ["item 1", "item 2", "other", "other"]


def test_per_route_false_shares_one_quota_across_routes() -> None:
    app, _ = app_with(RateLimit("3/minute", per_route=False))
    with TestClient(app) as client:
        assert client.get("/items/1").status_code == 200
        assert client.get("/other").status_code == 200
        assert client.get("/items/9").status_code == 200
        assert client.get("/other").status_code == 429


def test_router_level_limit_guards_only_its_routes() -> None:
    app, _ = app_with()
    api = Router(prefix="/api", dependencies=[RateLimit("1/minute")])

    @api.get("/a")
    async def a() -> dict[str, str]:
        return {"r": "a"}

    @api.get("/b/{x}")
    async def b(x: int) -> dict[str, int]:
        return {"r": x}

    app.include_router(api)
    with TestClient(app) as client:
        assert statuses(client, "/api/a", 2) == [200, 429]
        assert client.get("/api/b/1").status_code == 200
        assert client.get("/api/b/2").status_code == 429
        assert statuses(client, "/other", 3) == [200, 200, 200]


def test_app_route_and_stacked_limits_each_send_their_fields() -> None:
    per_second = RateLimit("2/second", name="burst")
    app, _ = app_with(RateLimit("100/hour", name="hourly"))

    @app.get("/both", dependencies=[Depends(per_second)])
    async def both() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(app) as client:
        r = client.get("/both")
        assert r.status_code == 200
        assert r.headers.get_list("ratelimit-policy") == [
            '"hourly";q=100;w=3600',
            '"burst";q=2;w=1',
        ]
        assert [v.split(";")[:2] for v in r.headers.get_list("ratelimit")] == [
            ['"hourly"', "r=99"],
            ['"burst"', "r=1"],
        ]
        client.get("/both")
        refused = client.get("/both")
        assert refused.status_code == 429
        assert refused.json()["violated-policies"] == ["burst"]
        assert refused.headers["retry-after"] == "1"


def test_burst_allows_a_spike_then_the_sustained_rate() -> None:
    app, _ = app_with(RateLimit("60/minute", burst=5))
    with TestClient(app) as client:
        assert statuses(client, "/other", 6) == [200] * 5 + [429]
        refused = client.get("/other")
        assert refused.headers["retry-after"] == "1"
        # The policy advertises the sustained quota; r counts down from the burst.
        assert refused.headers["ratelimit-policy"] == '"60/minute";q=60;w=60'


def test_capacity_returns_over_time() -> None:
    app, _ = app_with(RateLimit("10/second", burst=1))
    with TestClient(app) as client:
        assert statuses(client, "/other", 2) == [200, 429]
        anyio.run(anyio.sleep, 0.12)
        assert client.get("/other").status_code == 200


def test_cost_takes_several_units() -> None:
    app, _ = app_with(RateLimit("4/minute", cost=2))
    with TestClient(app) as client:
        r = client.get("/other")
        assert r.headers["ratelimit"].startswith('"4/minute";r=2;')
        assert statuses(client, "/other", 2) == [200, 429]


# -- who is counted -------------------------------------------------------------------------


def test_rotating_x_forwarded_for_from_an_untrusted_client_changes_nothing() -> None:
    # The app trusts a proxy, but this peer is not it: its headers are not read.
    app, _ = app_with(RateLimit("2/minute"), trusted_proxies=["10.0.0.1"])
    with TestClient(app, client=("203.0.113.7", 4000)) as client:
        codes = [
            client.get(
                "/other",
                headers={
                    "X-Forwarded-For": f"198.51.100.{i}",
                    "Forwarded": f"for=192.0.2.{i}",
                    "X-Real-IP": f"192.0.2.{i}",
                },
            ).status_code
            for i in range(5)
        ]
    assert codes == [200, 200, 429, 429, 429]


def test_rotating_x_forwarded_for_with_a_limit_that_trusts_another_proxy() -> None:
    app, _ = app_with(RateLimit("2/minute", trusted_proxies=["10.0.0.1"]))
    with TestClient(app, client=("203.0.113.7", 4000)) as client:
        codes = [
            client.get("/other", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
            for i in range(4)
        ]
    assert codes == [200, 200, 429, 429]


@pytest.mark.parametrize("where", ["app", "limit"])
def test_a_trusted_proxy_s_forwarded_client_is_the_key(where: str) -> None:
    proxies = ["10.0.0.0/8"]
    if where == "app":
        app, _ = app_with(RateLimit("1/minute"), trusted_proxies=proxies)
    else:
        app, _ = app_with(RateLimit("1/minute", trusted_proxies=proxies))
    with TestClient(app, client=("10.0.0.1", 4000)) as client:

        def get(xff: str) -> int:
            return client.get("/other", headers={"X-Forwarded-For": xff}).status_code

        assert get("198.51.100.1") == 200
        assert get("198.51.100.2") == 200
        assert get("198.51.100.1") == 429
        # The right-most untrusted address counts: a client prepending lies gains nothing.
        assert get("1.2.3.4, 198.51.100.2") == 429
        assert get("198.51.100.2, 10.0.0.5") == 429


def test_ipv6_clients_count_by_their_64() -> None:
    app, _ = app_with(RateLimit("1/minute"))
    with TestClient(app, client=("2001:db8:1:2::1", 1)) as first:
        assert first.get("/other").status_code == 200
    with TestClient(app, client=("2001:db8:1:2:ffff::9", 1)) as same_64:
        assert same_64.get("/other").status_code == 429
    with TestClient(app, client=("2001:db8:1:3::1", 1)) as other_64:
        assert other_64.get("/other").status_code == 200


class UserFromHeader:
    """Test authentication: ``X-User`` names the user (what JWTAuth et al. do for real)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        for name, value in scope.get("headers", ()):
            if name == b"x-user":
                set_user(scope, SimpleUser(value.decode()), None)
        await self.app(scope, receive, send)


def test_by_user_counts_each_user_and_anonymous_by_address() -> None:
    app, _ = app_with(RateLimit("1/minute", key=by_user))
    app.add_middleware(UserFromHeader)
    with TestClient(app) as client:
        assert client.get("/other", headers={"X-User": "ann"}).status_code == 200
        assert client.get("/other", headers={"X-User": "ann"}).status_code == 429
        assert client.get("/other", headers={"X-User": "bob"}).status_code == 200
        assert client.get("/other").status_code == 200  # anonymous: its address
        assert client.get("/other").status_code == 429


class RecordingStore:
    """A ``Store`` that records the keys it is asked about (around a MemoryStore)."""

    def __init__(self) -> None:
        self.inner = MemoryStore()
        self.keys: list[str] = []

    async def get(self, key: str) -> bytes | None:
        return await self.inner.get(key)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        await self.inner.set(key, value, ttl)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        return await self.inner.incr(key, amount, ttl)

    async def gcra(
        self, key: str, emission_interval: float, burst: int, cost: int = 1
    ) -> GCRAResult:
        self.keys.append(key)
        return await self.inner.gcra(key, emission_interval, burst, cost)


def test_by_api_key_counts_each_key_and_never_stores_it() -> None:
    store = RecordingStore()
    assert isinstance(store, Store)
    app, _ = app_with(RateLimit("1/minute", key=by_api_key("X-API-Key"), store=store))
    secret = "sk_live_4f9a1c77e2b04d0b"
    with TestClient(app) as client:
        assert client.get("/other", headers={"X-API-Key": secret}).status_code == 200
        refused = client.get("/other", headers={"X-API-Key": secret})
        assert refused.status_code == 429
        assert secret not in refused.text
        assert client.get("/other", headers={"X-API-Key": "another"}).status_code == 200
        assert client.get("/other").status_code == 200  # no key: its address
    assert len(store.keys) == 4
    assert all(secret not in key for key in store.keys)
    assert store.keys[0] == store.keys[1] != store.keys[2]
    assert store.keys[0].startswith("ratelimit:1/minute|GET /other|apikey:")
    assert store.keys[3].endswith("|ip:testclient")


def test_custom_key_functions_sync_async_and_exempt() -> None:
    def tenant(request: Request) -> str | None:
        value = request.headers.get("x-tenant")
        return None if value == "internal" else f"tenant:{value}"

    async def async_tenant(request: Request) -> str:
        await anyio.sleep(0)
        return request.headers.get("x-tenant", "none")

    for key in (tenant, async_tenant):
        app, _ = app_with(RateLimit("1/minute", key=key))
        with TestClient(app) as client:

            def get(t: str) -> httpx.Response:
                return client.get("/other", headers={"X-Tenant": t})

            assert get("a").status_code == 200
            assert get("a").status_code == 429
            assert get("b").status_code == 200
        if key is tenant:
            with TestClient(app) as client:
                exempt = [client.get("/other", headers={"X-Tenant": "internal"}) for _ in range(3)]
            assert [r.status_code for r in exempt] == [200, 200, 200]
            assert "ratelimit" not in exempt[0].headers


def test_by_client_is_the_default_key() -> None:
    assert RateLimit("1/minute").key is by_client


# -- the middleware ------------------------------------------------------------------------


def test_middleware_limits_the_whole_app_before_it_runs() -> None:
    app, calls = app_with()
    app.add_middleware(RateLimitMiddleware, limit=RateLimit("2/minute", per_route=False))
    with TestClient(app) as client:
        first = client.get("/items/1")
        assert first.status_code == 200
        assert first.headers["ratelimit"].startswith('"2/minute";r=1;')
        assert client.get("/other").status_code == 200
        refused = client.get("/nowhere")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "30"
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == QUOTA_EXCEEDED
    assert calls == ["item 1", "other"]


def test_middleware_keys_by_route_template_too() -> None:
    app, _ = app_with()
    app.add_middleware(RateLimitMiddleware, limit="1/minute")
    with TestClient(app) as client:
        assert client.get("/items/1").status_code == 200
        assert client.get("/items/2").status_code == 429
        assert client.get("/other").status_code == 200
        # Unmatched paths share one quota however they are spelled.
        assert client.get("/scan/a").status_code == 404
        assert client.get("/scan/b").status_code == 429


def test_middleware_refuses_options_twice() -> None:
    with pytest.raises(TypeError, match="give the options to RateLimit"):
        RateLimitMiddleware(lambda *a: None, limit=RateLimit("1/minute"), burst=3)  # type: ignore[arg-type]


# -- store failures -------------------------------------------------------------------------


def down_store(password: str = "") -> RedisStore:
    """A RedisStore whose server is gone (nothing listens on port 1)."""
    auth = f":{password}@" if password else ""
    return RedisStore(f"redis://{auth}127.0.0.1:1/0", prefix="qake-test-down:")


@pytest.fixture
def warnings_of_rate_limits(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="qake.security")
    return caplog


@pytest.mark.parametrize("policy", ["open", "closed"])
def test_redis_down_follows_the_policy_logged_once_never_500(
    policy: str, warnings_of_rate_limits: pytest.LogCaptureFixture
) -> None:
    password = "hunter2-redis-secret"
    limit = RateLimit("1/minute", store=down_store(password), on_store_error=policy)  # type: ignore[arg-type]
    app, calls = app_with(limit)
    with TestClient(app, raise_server_exceptions=False) as client:
        answers = [client.get("/other") for _ in range(4)]
    if policy == "open":
        assert [r.status_code for r in answers] == [200] * 4
        assert calls == ["other"] * 4
        assert answers[0].headers["ratelimit-policy"] == '"1/minute";q=1;w=60'
        assert "ratelimit" not in answers[0].headers
    else:
        assert [r.status_code for r in answers] == [503] * 4
        assert calls == []
        assert answers[0].headers["retry-after"] == "5"
        assert answers[0].headers["content-type"] == "application/problem+json"
        assert answers[0].json()["status"] == 503
    records = [r for r in warnings_of_rate_limits.records if r.name == "qake.security"]
    assert len(records) == 1
    text = records[0].getMessage()
    assert "'1/minute'" in text
    assert f"failing {policy}" in text
    assert "RedisStore" in text
    assert password not in text
    assert all(password not in r.text for r in answers)


def test_store_errors_are_logged_again_after_the_interval(
    warnings_of_rate_limits: pytest.LogCaptureFixture,
) -> None:
    limit = RateLimit("1/minute", store=down_store(), log_interval=0.05)
    app, _ = app_with(limit)
    with TestClient(app) as client:
        client.get("/other")
        client.get("/other")
        anyio.run(anyio.sleep, 0.08)
        client.get("/other")
    assert len([r for r in warnings_of_rate_limits.records if r.name == "qake.security"]) == 2


class SlowStore(RecordingStore):
    """A store that hangs (a Redis behind a black-holed route)."""

    async def gcra(
        self, key: str, emission_interval: float, burst: int, cost: int = 1
    ) -> GCRAResult:
        await anyio.sleep(5)
        raise AssertionError("not reached")


def test_a_hanging_store_times_out_into_the_policy(
    warnings_of_rate_limits: pytest.LogCaptureFixture,
) -> None:
    limit = RateLimit("1/minute", store=SlowStore(), store_timeout=0.05, on_store_error="closed")
    app, _ = app_with(limit)
    with TestClient(app) as client:
        assert client.get("/other").status_code == 503
    assert "TimeoutError" in warnings_of_rate_limits.records[0].getMessage()


def test_middleware_fails_closed_with_503_too() -> None:
    app, calls = app_with()
    app.add_middleware(
        RateLimitMiddleware, limit="1/minute", store=down_store(), on_store_error="closed"
    )
    with TestClient(app) as client:
        r = client.get("/other")
    assert r.status_code == 503
    assert r.headers["retry-after"] == "5"
    assert calls == []


# -- Redis: one limit for every worker ---------------------------------------------------


def redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # pragma: no cover - environment
        pytest.skip(f"Redis on 127.0.0.1:6379 is not reachable: {exc}")


class SwitchableRedis:
    """A redis client that can be pointed elsewhere mid-test (Redis "stops" when it
    points where nothing listens); every command goes to the current target."""

    def __init__(self) -> None:
        import redis.asyncio as aioredis

        self.up = aioredis.Redis.from_url(REDIS_URL)
        self.down = aioredis.Redis.from_url("redis://127.0.0.1:1/0")
        self.target = self.up

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)

    def register_script(self, script: str) -> Any:
        from redis.commands.core import AsyncScript

        return AsyncScript(self, script)  # type: ignore[arg-type]  # runs through this client, so through target

    async def aclose(self) -> None:
        await self.up.aclose()
        await self.down.aclose()


def redis_app(prefix: str, rate: str, **options: Any) -> tuple[QakeAPI, SwitchableRedis]:
    """One 'worker': its own app and its own RedisStore (own connection pool)."""
    client = SwitchableRedis()
    store = RedisStore(client=client, prefix=prefix)
    app, _ = app_with(RateLimit(rate, store=store, **options))

    @app.on_event("shutdown")
    async def close_store() -> None:
        await store.aclose()

    return app, client


def cleanup(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.mark.redis
def test_a_redis_limit_is_shared_by_two_app_instances() -> None:
    redis_or_skip()
    prefix = f"qake-test-rl-{os.urandom(4).hex()}:"
    try:
        app1, _ = redis_app(prefix, "4/minute")
        app2, _ = redis_app(prefix, "4/minute")
        with TestClient(app1) as one, TestClient(app2) as two:
            codes = [(one if i % 2 else two).get(f"/items/{i}").status_code for i in range(8)]
            assert codes == [200] * 4 + [429] * 4
            refused = one.get("/items/x")
            assert refused.headers["retry-after"] == "15"
            # Another route, another quota, on both workers.
            assert two.get("/other").status_code == 200
    finally:
        cleanup(prefix)


@pytest.mark.redis
def test_redis_stopping_mid_test_then_coming_back(
    warnings_of_rate_limits: pytest.LogCaptureFixture,
) -> None:
    """Redis goes away while the app runs (its client now points where nothing
    listens), then comes back: fail open meanwhile, one warning, no 500, and the
    limit holds again afterwards with the state Redis kept."""
    redis_or_skip()
    prefix = f"qake-test-rl-{os.urandom(4).hex()}:"
    try:
        app, redis_client = redis_app(prefix, "2/minute", on_store_error="open")
        with TestClient(app, raise_server_exceptions=False) as client:
            assert client.get("/other").status_code == 200
            redis_client.target = redis_client.down
            assert statuses(client, "/other", 5) == [200] * 5
            redis_client.target = redis_client.up
            assert statuses(client, "/other", 2) == [200, 429]
        records = [r for r in warnings_of_rate_limits.records if r.name == "qake.security"]
        assert len(records) == 1
        assert "ConnectionError" in records[0].getMessage()
    finally:
        cleanup(prefix)


@pytest.mark.redis
def test_redis_stopping_mid_test_fails_closed() -> None:
    redis_or_skip()
    prefix = f"qake-test-rl-{os.urandom(4).hex()}:"
    try:
        app, redis_client = redis_app(prefix, "5/minute", on_store_error="closed")
        with TestClient(app, raise_server_exceptions=False) as client:
            assert client.get("/other").status_code == 200
            redis_client.target = redis_client.down
            assert statuses(client, "/other", 3) == [503] * 3
            redis_client.target = redis_client.up
            assert client.get("/other").status_code == 200
    finally:
        cleanup(prefix)
