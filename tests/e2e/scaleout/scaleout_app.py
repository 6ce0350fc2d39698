"""The app of the scale-out tests: every piece of state a worker must share with the
others goes through one Redis, and writes go to PostgreSQL.

* ``GET /limited``: ``RateLimit("5/minute")`` on a ``RedisStore`` (one quota for all).
* ``GET /cached/{key}``: a response cached 60 s in a ``RedisStore`` (``x-cache: hit``
  when served from the cache); its body names the worker that computed it.
* ``GET /csrf``: the CSRF token (``CSRFMiddleware``), bound to the session, which lives
  in a ``RedisStore`` (``SessionMiddleware``); ``POST /login`` (CSRF-checked) puts a user
  in the session; ``GET /me`` reads it (401 without one).
* ``WS /news``: the ``news`` channel of a ``RedisBroadcast``; any client message is
  answered with this worker's pid once subscribed. ``POST /news`` publishes (CSRF-exempt:
  no cookie authenticates it).
* ``POST /writes``: inserts ``{"id": ...}`` into PostgreSQL (idempotent: a retried id is
  a no-op) and answers 201 only once the row is committed (CSRF-exempt).
* Every answer carries ``x-worker: <pid>`` (an outer middleware, so cache hits too).

Settings (environment): ``SCALEOUT_REDIS_URL``, ``SCALEOUT_PREFIX`` (Redis keys and
channels, unique per test), ``SCALEOUT_SECRET`` (shared by the workers), ``SCALEOUT_DSN``
and ``SCALEOUT_TABLE`` (a table the test created: ``id text primary key, pid int``).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
from pydantic import BaseModel, Field

from qake_core import CacheOptions, RedisStore
from qake_security import (
    CSRFMiddleware,
    RateLimit,
    SessionMiddleware,
    csrf_exempt,
    csrf_token,
)
from qake_ws import BroadcastUnavailable, RedisBroadcast
from qakeapi import Depends, HTTPException, QakeAPI, Request, WebSocket
from tests.e2e.scaleout.worker_header import WorkerHeader

__all__ = ["app"]

REDIS_URL = os.environ.get("SCALEOUT_REDIS_URL", "redis://127.0.0.1:6379/0")
PREFIX = os.environ.get("SCALEOUT_PREFIX", "qake-scaleout:")
SECRET = os.environ.get("SCALEOUT_SECRET", "scale-out test secret, 32 bytes or more!")
DSN = os.environ.get("SCALEOUT_DSN", "postgresql://postgres@127.0.0.1:5432/test")
TABLE = os.environ.get("SCALEOUT_TABLE", "scaleout_writes")
if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", TABLE):
    raise ValueError(f"SCALEOUT_TABLE: {TABLE!r} is not a plain table name")

PID = os.getpid()
store = RedisStore(REDIS_URL, prefix=PREFIX)
broadcast = RedisBroadcast(REDIS_URL, prefix=PREFIX)


class Write(BaseModel):
    id: str = Field(pattern=r"^[0-9a-f-]{36}$")


class Login(BaseModel):
    user: str = Field(pattern=r"^[a-z]{1,32}$")


@asynccontextmanager
async def lifespan(_app: QakeAPI) -> AsyncIterator[dict[str, Any]]:
    pool = await asyncpg.create_pool(DSN, min_size=1, max_size=4)
    try:
        async with broadcast:
            yield {"pool": pool}
    finally:
        await pool.close()
        await store.aclose()


def get_pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.state.pool
    return pool


app = QakeAPI(lifespan=lifespan)


@app.get("/pid")
async def pid() -> dict[str, int]:
    return {"pid": PID}


@app.get("/limited", dependencies=[RateLimit("5/minute", store=store, name="scaleout")])
async def limited() -> dict[str, int]:
    return {"pid": PID}


@app.get("/cached/{key}", cache=CacheOptions(ttl=60, store=store))
async def cached(key: str) -> dict[str, Any]:
    return {"key": key, "computed_by": PID, "nonce": uuid.uuid4().hex}


@app.get("/csrf")
async def issue_csrf(request: Request) -> dict[str, str]:
    return {"token": csrf_token(request)}


@app.post("/login")
async def web_login(body: Login, request: Request) -> dict[str, str]:
    request.session.regenerate()  # a new session id at login (session fixation)
    request.session["user"] = body.user
    return {"user": body.user}


@app.get("/me")
async def me(request: Request) -> dict[str, Any]:
    user = request.session.get("user")
    if user is None:
        raise HTTPException(401, "Not logged in")
    return {"user": user}


@app.websocket("/news")
async def news(ws: WebSocket) -> None:
    await ws.accept()

    async def answer_pid(_message: str | bytes) -> None:
        await ws.send_json({"pid": PID})

    await broadcast.forward("news", ws, on_receive=answer_pid)


@app.post("/news")
@csrf_exempt
async def publish_news(headline: str) -> dict[str, int]:
    try:
        await broadcast.publish("news", {"headline": headline, "from": PID})
    except BroadcastUnavailable:
        raise HTTPException(503, "Redis is unreachable") from None
    return {"pid": PID}


@app.post("/writes", status_code=201)
@csrf_exempt
async def write(body: Write, pool: Annotated[asyncpg.Pool, Depends(get_pool)]) -> dict[str, str]:
    await pool.execute(
        f"INSERT INTO {TABLE} (id, pid) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        body.id,
        PID,
    )
    return {"id": body.id}


key = SECRET.encode()
# Added last = outermost: the session wraps CSRF (tokens are bound to the session id).
# Plain-http cookies (no __Host- prefix): the tests speak http to the workers.
app.add_middleware(CSRFMiddleware, secret_keys=[key], https_only=False)
app.add_middleware(SessionMiddleware, secret_keys=[key], store=store, https_only=False)
app.add_middleware(WorkerHeader)
