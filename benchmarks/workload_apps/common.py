"""What every workload app shares: the database, the queries, the models, the data.

S8 ``GET /fortunes``: every row of ``fortune``, one more row added in memory, sorted by
message, rendered by ``templates/fortunes.html`` with autoescaping.
S9 ``GET /queries``: 20 single-row ``SELECT``s on ``world`` (the ids of ``QUERY_IDS``),
answered as a JSON list of 20 validated ``World`` models.
S10 ``GET /large-json``: ``CUSTOMERS``, 1,000 ``Customer`` models with nested models and
datetimes built once at import, serialised per request.

The apps open an asyncpg pool in their lifespan (``open_pool``), unless
``QAKE_BENCH_NO_DB=1`` (the driver sets it when PostgreSQL does not answer: S10 is then
the only scenario measured).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "fortunes.html"
#: The same file for BlackSheep, whose ``view()`` adds ".jinja" to the name it is given.
TEMPLATE_STEM = "fortunes"

DSN = os.environ.get("QAKE_BENCH_DSN", "postgresql://postgres@127.0.0.1:5432/test")
DB_ENABLED = os.environ.get("QAKE_BENCH_NO_DB") != "1"
#: ``QAKE_BENCH_FAKE_DB=1`` (``workloads.py --fake-db``): the pool is :class:`FakePool`,
#: which answers from memory what the tables hold, so what is measured is the
#: framework, the template and the models, without the driver and PostgreSQL.
FAKE_DB = os.environ.get("QAKE_BENCH_FAKE_DB") == "1"
#: The pool's size (min = max): enough for wrk's 64 connections to queue on, not one
#: PostgreSQL backend per connection (the machine has 2 cores).
POOL_SIZE = int(os.environ.get("QAKE_BENCH_POOL_SIZE", "8"))

FORTUNES_SQL = "SELECT id, message FROM fortune"
WORLD_SQL = "SELECT id, randomnumber FROM world WHERE id = $1"
ADDITIONAL = (0, "Additional fortune added at request time.")
by_message = itemgetter(1)

#: The 20 ids S9 reads, spread over the table (fixed, so every app answers the same).
QUERY_IDS = tuple(1 + (i * 4999) % 10_000 for i in range(20))
WORLD_ROWS = 10_000

#: The TechEmpower fortunes (the ``<script>`` one tests the escaping).
FORTUNES: tuple[tuple[int, str], ...] = (
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal places, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. \u2014 Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af"),
)


def random_number(world_id: int) -> int:
    """``world.randomnumber`` of a row: deterministic, so the expected answers are known."""
    return 1 + (world_id * 7919) % 10_000


class World(BaseModel):
    id: int
    randomNumber: int


class _FakeStatement:
    async def fetchrow(self, world_id: int) -> tuple[int, int]:
        return (world_id, random_number(world_id))


class _FakeConnection:
    async def fetch(self, sql: str) -> list[tuple[int, str]]:
        return list(FORTUNES)

    async def prepare(self, sql: str) -> _FakeStatement:
        return _FakeStatement()


class _Acquired:
    async def __aenter__(self) -> _FakeConnection:
        return _FakeConnection()

    async def __aexit__(self, *exc: object) -> None:
        return None


class FakePool:
    """What ``read_fortunes`` and ``read_worlds`` use of an asyncpg pool, answered from
    memory with the rows the tables hold (``FORTUNES``, ``random_number``)."""

    def acquire(self) -> _Acquired:
        return _Acquired()

    async def close(self) -> None:
        return None


async def open_pool() -> Any:
    """The app's asyncpg pool, a :class:`FakePool` with ``QAKE_BENCH_FAKE_DB=1``, or None
    when the database is disabled."""
    if FAKE_DB:
        return FakePool()
    if not DB_ENABLED:
        return None
    import asyncpg

    return await asyncpg.create_pool(DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)


async def read_fortunes(pool: Any) -> list[Any]:
    """S8's rows: every fortune plus ``ADDITIONAL``, sorted by message."""
    async with pool.acquire() as conn:
        rows: list[Any] = await conn.fetch(FORTUNES_SQL)
    rows.append(ADDITIONAL)
    rows.sort(key=by_message)
    return rows


async def read_worlds(pool: Any) -> list[World]:
    """S9's 20 rows, one query each, validated into ``World`` models."""
    async with pool.acquire() as conn:
        statement = await conn.prepare(WORLD_SQL)
        worlds = []
        for world_id in QUERY_IDS:
            row = await statement.fetchrow(world_id)
            worlds.append(World(id=row[0], randomNumber=row[1]))
    return worlds


# --------------------------------------------------------------------------- S10


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    street: str
    city: str
    postcode: str
    country: str


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: int
    placed_at: datetime
    total: float
    items: list[str]


class Customer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    name: str
    email: str
    active: bool
    balance: float
    created_at: datetime
    updated_at: datetime | None
    address: Address
    tags: list[str]
    orders: list[Order]


def build_customers(n: int = 1000) -> list[Customer]:
    """``n`` customers, each with an address, 3 tags and 2 orders (built once)."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    customers = []
    for i in range(n):
        created = start + timedelta(minutes=37 * i)
        customers.append(
            Customer(
                id=i,
                name=f"Customer {i}",
                email=f"customer{i}@example.com",
                active=i % 3 != 0,
                balance=round(i * 1.25, 2),
                created_at=created,
                updated_at=None if i % 2 else created + timedelta(days=1),
                address=Address(
                    street=f"{i} Main Street",
                    city="Springfield",
                    postcode=f"{10000 + i}",
                    country="US",
                ),
                tags=["retail", f"group-{i % 7}", "newsletter"],
                orders=[
                    Order(
                        number=i * 10 + k,
                        placed_at=created + timedelta(hours=k + 1),
                        total=10.5 * (k + 1),
                        items=[f"sku-{i}-{k}", "sku-common"],
                    )
                    for k in range(2)
                ],
            )
        )
    return customers


CUSTOMERS = build_customers()
