"""The app of the Redis fault tests: a rate limit failing open and one failing closed,
a cached route and server-side sessions, all on ``FAULT_REDIS_URL`` (a private
``redis-server`` the test stops and starts; never the shared one)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from qake_core import CacheOptions, RedisStore, Request
from qake_security import RateLimit, SessionMiddleware
from qakeapi import QakeAPI

URL = os.environ.get("FAULT_REDIS_URL", "redis://127.0.0.1:1/0")
PREFIX = f"qake-faults-{uuid.uuid4().hex}:"
store = RedisStore(URL, prefix=PREFIX)
computed = 0


@asynccontextmanager
async def lifespan(app: QakeAPI) -> AsyncIterator[None]:
    yield
    await store.aclose()


app = QakeAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
app.add_middleware(
    SessionMiddleware,
    secret_keys=["a session secret for the Redis fault tests, 32+ bytes"],
    store=store,
    https_only=False,
)
fail_open = RateLimit("3/minute", store=store, name="open", on_store_error="open")
fail_closed = RateLimit("3/minute", store=store, name="closed", on_store_error="closed")


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"pong": "yes"}


@app.get("/limited-open", dependencies=[fail_open])
async def limited_open() -> dict[str, bool]:
    return {"ok": True}


@app.get("/limited-closed", dependencies=[fail_closed])
async def limited_closed() -> dict[str, bool]:
    return {"ok": True}


@app.get("/cached", cache=CacheOptions(ttl=60, store=store))
async def cached() -> dict[str, int]:
    global computed
    computed += 1
    return {"computed": computed}


@app.post("/login")
async def login(request: Request, name: str) -> dict[str, str]:
    request.session["user"] = name
    return {"user": name}


@app.get("/me")
async def me(request: Request) -> dict[str, str | None]:
    return {"user": request.session.get("user")}
