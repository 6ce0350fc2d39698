"""Anonymous traffic and the shared session store (issue 18, found while scaling out).

With ``SessionMiddleware(store=RedisStore(...))`` and ``CSRFMiddleware``, a safe request
without a cookie (a load balancer's probe, a crawler, any API client that keeps no
cookies) makes ``CSRFMiddleware`` start a session to bind its token to, and the session
middleware then writes that empty session to the store with a ``max_age`` TTL (14 days
by default): one Redis key per anonymous request, for two weeks. Fixed: a session whose
id is in use but which holds no data travels signed in its cookie and is stored only
once it holds data.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from redis_process import redis_answers

from qakeapi import QakeAPI, RedisStore, Request
from qakeapi.security import CSRFMiddleware, SessionMiddleware, csrf_token
from qakeapi.testing import TestClient

pytestmark = [pytest.mark.redis, pytest.mark.scaleout]

redis = pytest.importorskip("redis", reason="RedisStore needs redis-py (an extra)")

KEY = b"a session and CSRF key of 32 bytes or more"


def test_cookieless_requests_leave_no_sessions_in_the_store() -> None:
    if not redis_answers("127.0.0.1", 6379):
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"qake-store-growth-{uuid.uuid4().hex}:"
    store = RedisStore(prefix=prefix)

    @asynccontextmanager
    async def lifespan(_app: QakeAPI) -> AsyncIterator[None]:
        yield
        await store.aclose()

    app = QakeAPI(lifespan=lifespan)

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    app.add_middleware(CSRFMiddleware, secret_keys=[KEY], https_only=False)
    app.add_middleware(SessionMiddleware, secret_keys=[KEY], store=store, https_only=False)
    client = redis.Redis()
    try:
        with TestClient(app) as http:
            for _ in range(100):
                http.cookies.clear()  # a client that keeps no cookies
                assert http.get("/ping").status_code == 200
        sessions = client.keys(prefix + "session:*")
        assert len(sessions) == 0, f"{len(sessions)} sessions stored for 100 anonymous GETs"
    finally:
        for key in client.keys(prefix + "*"):
            client.delete(key)
        client.close()


def test_the_token_of_an_empty_session_works_and_data_is_stored() -> None:
    """The signed empty session keeps its id: the CSRF token bound to it on a GET is
    accepted on the POST; a session that gets data is written to the store then; a
    tampered empty-session cookie is a new session (its token refused)."""
    if not redis_answers("127.0.0.1", 6379):
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"qake-store-growth-{uuid.uuid4().hex}:"
    store = RedisStore(prefix=prefix)

    @asynccontextmanager
    async def lifespan(_app: QakeAPI) -> AsyncIterator[None]:
        yield
        await store.aclose()

    app = QakeAPI(lifespan=lifespan)

    @app.get("/form")
    async def form(request: Request) -> dict[str, str]:
        return {"token": csrf_token(request)}

    @app.post("/remember")
    async def remember(request: Request) -> dict[str, bool]:
        request.session["name"] = "alice"
        return {"ok": True}

    @app.get("/who")
    async def who(request: Request) -> dict[str, object]:
        return {"name": request.session.get("name")}

    app.add_middleware(CSRFMiddleware, secret_keys=[KEY], https_only=False)
    app.add_middleware(SessionMiddleware, secret_keys=[KEY], store=store, https_only=False)
    client = redis.Redis()
    try:
        with TestClient(app) as http:
            token = http.get("/form").json()["token"]
            assert client.keys(prefix + "session:*") == []  # bound, not stored
            cookie_name = next(n for n in http.cookies if "session" in n)
            signed = http.cookies[cookie_name]
            assert "." in signed  # the signed empty session, not a store id
            assert http.post("/remember", headers={"x-csrf-token": token}).json() == {"ok": True}
            assert len(client.keys(prefix + "session:*")) == 1
            assert http.get("/who").json() == {"name": "alice"}
        with TestClient(app) as forged:
            forged.get("/form")
            name = next(n for n in forged.cookies if "session" in n)
            token = forged.get("/form").json()["token"]
            tampered = forged.cookies[name][:-2] + (
                "AA" if forged.cookies[name][-2:] != "AA" else "BB"
            )
            csrf_cookies = {n: v for n, v in forged.cookies.items() if n != name}
            forged.cookies.clear()
            for n, v in {**csrf_cookies, name: tampered}.items():
                forged.cookies.set(n, v)
            refused = forged.post("/remember", headers={"x-csrf-token": token})
            assert refused.status_code == 403
    finally:
        for key in client.keys(prefix + "*"):
            client.delete(key)
        client.close()
