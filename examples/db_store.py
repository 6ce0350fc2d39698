"""The book store behind ``examples/db_app.py``: one protocol, two databases.

* :class:`SQLiteBooks` (aiosqlite) is the default; :class:`PostgresBooks` (an asyncpg
  pool) is used when a DSN is given. Both take **bound parameters only**: the one SQL
  text chosen at run time is an ``ORDER BY`` clause picked from a fixed table
  (:data:`ORDER_BY`), never a client's string.
* :func:`open_store` applies the migrations (:data:`MIGRATIONS`) before returning: a
  ``schema_version`` table records the last one applied, so opening twice (a restart, a
  second worker) changes nothing.
* Optimistic concurrency lives in the ``UPDATE``/``DELETE``: ``WHERE id = ? AND
  version = ?`` with ``version = version + 1``, so of two writers holding the same
  version exactly one changes the row; the other sees no row and answers 412.
* Ids are never reused (SQLite ``AUTOINCREMENT``, a PostgreSQL identity), so an ETag
  ``"<id>-<version>"`` never names a deleted book's successor.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

#: Printable text: no control characters (PostgreSQL refuses NUL in ``text``).
TEXT = r"^[^\x00-\x1f\x7f]*$"
ISBN = r"^97[89][0-9]{10}$"
MAX_ID = 2**63 - 1
MAX_OFFSET = 1_000_000

Sort = Literal["id", "-id", "title", "-title", "published", "-published"]
#: The allow-list: each sort key's ``ORDER BY`` clause (``id`` breaks ties).
ORDER_BY: dict[str, str] = {
    "id": "id ASC",
    "-id": "id DESC",
    "title": "title ASC, id ASC",
    "-title": "title DESC, id DESC",
    "published": "published ASC, id ASC",
    "-published": "published DESC, id DESC",
}


class BookIn(BaseModel):
    """A book as a client writes it (``POST`` and ``PUT``)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, pattern=TEXT)
    author: str = Field(min_length=1, max_length=100, pattern=TEXT)
    isbn: str = Field(pattern=ISBN, description="ISBN-13, unique among the books")
    published: dt.date
    in_stock: bool = True


class BookPatch(BaseModel):
    """A partial update (``PATCH``): an omitted or ``null`` field is left unchanged."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=200, pattern=TEXT)
    author: str | None = Field(None, min_length=1, max_length=100, pattern=TEXT)
    isbn: str | None = Field(None, pattern=ISBN)
    published: dt.date | None = None
    in_stock: bool | None = None


class Book(BookIn):
    """A stored book; ``version`` starts at 1 and grows by one on each change."""

    model_config = ConfigDict(extra="forbid")

    id: int
    version: int


class BookQuery(BaseModel):
    """The list's filters and page (query parameters)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(20, ge=1, le=100, description="Books per page")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Books skipped")
    author: str | None = Field(None, min_length=1, max_length=100, pattern=TEXT)
    title_prefix: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        pattern=TEXT,
        description="Titles starting with this text (ASCII letters match either case)",
    )
    in_stock: bool | None = None
    published_from: dt.date | None = Field(None, description="Published on or after")
    published_to: dt.date | None = Field(None, description="Published on or before")
    sort: Sort = "id"


class DuplicateIsbn(Exception):
    """Another book has this ISBN (the unique constraint refused the write)."""


class BookStore(Protocol):
    """What the routes need from a database."""

    async def create(self, book: BookIn) -> Book: ...

    async def get(self, book_id: int) -> Book | None: ...

    async def search(self, query: BookQuery) -> tuple[list[Book], int]:
        """One page of matching books and how many match in all."""
        ...

    async def update(self, book_id: int, version: int, book: BookIn) -> Book | None:
        """The book after the change, or ``None`` when it is not at ``version``."""
        ...

    async def delete(self, book_id: int, version: int | None) -> bool:
        """Whether a book was deleted (at ``version``, when one is given)."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class Migration:
    version: int
    sqlite: str
    postgres: str


MIGRATIONS = (
    Migration(
        1,
        """CREATE TABLE books (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             version INTEGER NOT NULL DEFAULT 1,
             title TEXT NOT NULL, author TEXT NOT NULL, isbn TEXT NOT NULL UNIQUE,
             published TEXT NOT NULL, in_stock INTEGER NOT NULL)""",
        # COLLATE "C": titles sort by code point, as in SQLite, whatever the locale.
        """CREATE TABLE books (
             id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             version INTEGER NOT NULL DEFAULT 1,
             title TEXT COLLATE "C" NOT NULL, author TEXT NOT NULL,
             isbn TEXT NOT NULL UNIQUE, published DATE NOT NULL, in_stock BOOLEAN NOT NULL)""",
    ),
    Migration(
        2,
        "CREATE INDEX books_author ON books (author, id)",
        "CREATE INDEX books_author ON books (author, id)",
    ),
)

COLUMNS = "id, version, title, author, isbn, published, in_stock"


def like_prefix(text: str) -> str:
    """A ``LIKE`` pattern matching strings that start with ``text`` literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def where_clause(query: BookQuery, mark: Any, like: str) -> tuple[str, list[Any]]:
    """``WHERE ...`` with ``mark(n)`` placeholders and its values, in order."""
    conditions: list[str] = []
    values: list[Any] = []

    def add(condition: str, value: Any) -> None:
        values.append(value)
        conditions.append(condition.format(mark(len(values))))

    if query.author is not None:
        add("author = {}", query.author)
    if query.title_prefix is not None:
        add(f"title {like} {{}} ESCAPE '\\'", like_prefix(query.title_prefix))
    if query.in_stock is not None:
        add("in_stock = {}", query.in_stock)
    if query.published_from is not None:
        add("published >= {}", query.published_from)
    if query.published_to is not None:
        add("published <= {}", query.published_to)
    return (" WHERE " + " AND ".join(conditions) if conditions else ""), values


class SQLiteBooks:
    """Books in SQLite through aiosqlite, in autocommit mode (each statement commits)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    @classmethod
    async def open(cls, path: str) -> SQLiteBooks:
        import aiosqlite

        conn = await aiosqlite.connect(path, isolation_level=None, timeout=10)
        try:
            if path != ":memory:":
                await conn.execute("PRAGMA journal_mode=WAL")
            await _migrate_sqlite(conn)
        except BaseException:
            await conn.close()
            raise
        return cls(conn)

    async def aclose(self) -> None:
        await self._conn.close()

    @staticmethod
    def _book(row: Any) -> Book:
        id_, version, title, author, isbn, published, in_stock = row
        return Book(
            id=id_,
            version=version,
            title=title,
            author=author,
            isbn=isbn,
            published=dt.date.fromisoformat(published),
            in_stock=bool(in_stock),
        )

    @staticmethod
    def _values(book: BookIn) -> tuple[Any, ...]:
        return (book.title, book.author, book.isbn, book.published.isoformat(), book.in_stock)

    async def _one(self, sql: str, *params: Any) -> Book | None:
        try:
            async with self._conn.execute(sql, params) as cursor:
                row = await cursor.fetchone()
        except sqlite3.IntegrityError as exc:
            raise DuplicateIsbn from exc
        return None if row is None else self._book(row)

    async def create(self, book: BookIn) -> Book:
        created = await self._one(
            "INSERT INTO books (title, author, isbn, published, in_stock) "
            f"VALUES (?, ?, ?, ?, ?) RETURNING {COLUMNS}",
            *self._values(book),
        )
        assert created is not None
        return created

    async def get(self, book_id: int) -> Book | None:
        return await self._one(f"SELECT {COLUMNS} FROM books WHERE id = ?", book_id)

    async def search(self, query: BookQuery) -> tuple[list[Book], int]:
        where, values = where_clause(query, lambda n: "?", "LIKE")
        values = [v.isoformat() if isinstance(v, dt.date) else v for v in values]
        async with self._conn.execute(f"SELECT COUNT(*) FROM books{where}", values) as cursor:
            (total,) = await cursor.fetchone()
        sql = f"SELECT {COLUMNS} FROM books{where} ORDER BY {ORDER_BY[query.sort]} LIMIT ? OFFSET ?"
        async with self._conn.execute(sql, [*values, query.limit, query.offset]) as cursor:
            rows = await cursor.fetchall()
        return [self._book(row) for row in rows], int(total)

    async def update(self, book_id: int, version: int, book: BookIn) -> Book | None:
        return await self._one(
            "UPDATE books SET title = ?, author = ?, isbn = ?, published = ?, in_stock = ?, "
            f"version = version + 1 WHERE id = ? AND version = ? RETURNING {COLUMNS}",
            *self._values(book),
            book_id,
            version,
        )

    async def delete(self, book_id: int, version: int | None) -> bool:
        if version is None:
            cursor = await self._conn.execute("DELETE FROM books WHERE id = ?", (book_id,))
        else:
            cursor = await self._conn.execute(
                "DELETE FROM books WHERE id = ? AND version = ?", (book_id, version)
            )
        return bool(cursor.rowcount)


async def _migrate_sqlite(conn: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock first: a second worker starting at the same
    # time waits, then finds the migrations applied.
    await conn.execute("BEGIN IMMEDIATE")
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        async with conn.execute("SELECT MAX(version) FROM schema_version") as cursor:
            (current,) = await cursor.fetchone()
        for migration in MIGRATIONS:
            if migration.version > (current or 0):
                await conn.execute(migration.sqlite)
                await conn.execute(
                    "INSERT INTO schema_version (version) VALUES (?)", (migration.version,)
                )
        await conn.execute("COMMIT")
    except BaseException:
        await conn.execute("ROLLBACK")
        raise


class PostgresBooks:
    """Books in PostgreSQL through an asyncpg pool (``schema``: the tables' schema)."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, dsn: str, schema: str | None = None) -> PostgresBooks:
        import asyncpg

        settings = {"search_path": schema} if schema else None
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10, server_settings=settings)
        try:
            async with pool.acquire() as conn:
                await _migrate_postgres(conn)
        except BaseException:
            await pool.close()
            raise
        return cls(pool)

    async def aclose(self) -> None:
        await self._pool.close()

    @staticmethod
    def _book(row: Any) -> Book:
        return Book(**dict(row))

    async def _one(self, sql: str, *params: Any) -> Book | None:
        import asyncpg

        try:
            row = await self._pool.fetchrow(sql, *params)
        except asyncpg.UniqueViolationError as exc:
            raise DuplicateIsbn from exc
        return None if row is None else self._book(row)

    async def create(self, book: BookIn) -> Book:
        created = await self._one(
            "INSERT INTO books (title, author, isbn, published, in_stock) "
            f"VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}",
            book.title,
            book.author,
            book.isbn,
            book.published,
            book.in_stock,
        )
        assert created is not None
        return created

    async def get(self, book_id: int) -> Book | None:
        return await self._one(f"SELECT {COLUMNS} FROM books WHERE id = $1", book_id)

    async def search(self, query: BookQuery) -> tuple[list[Book], int]:
        where, values = where_clause(query, lambda n: f"${n}", "ILIKE")
        n = len(values)
        sql = (
            f"SELECT {COLUMNS} FROM books{where} ORDER BY {ORDER_BY[query.sort]} "
            f"LIMIT ${n + 1} OFFSET ${n + 2}"
        )
        async with self._pool.acquire() as conn, conn.transaction(readonly=True):
            total = await conn.fetchval(f"SELECT COUNT(*) FROM books{where}", *values)
            rows = await conn.fetch(sql, *values, query.limit, query.offset)
        return [self._book(row) for row in rows], int(total)

    async def update(self, book_id: int, version: int, book: BookIn) -> Book | None:
        return await self._one(
            "UPDATE books SET title = $1, author = $2, isbn = $3, published = $4, "
            "in_stock = $5, version = version + 1 WHERE id = $6 AND version = $7 "
            f"RETURNING {COLUMNS}",
            book.title,
            book.author,
            book.isbn,
            book.published,
            book.in_stock,
            book_id,
            version,
        )

    async def delete(self, book_id: int, version: int | None) -> bool:
        if version is None:
            status = await self._pool.execute("DELETE FROM books WHERE id = $1", book_id)
        else:
            status = await self._pool.execute(
                "DELETE FROM books WHERE id = $1 AND version = $2", book_id, version
            )
        return bool(status != "DELETE 0")


#: The advisory lock key serialising migrations between processes.
_MIGRATION_LOCK = 0x0B00C5


async def _migrate_postgres(conn: Any) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        current = await conn.fetchval("SELECT MAX(version) FROM schema_version")
        for migration in MIGRATIONS:
            if migration.version > (current or 0):
                await conn.execute(migration.postgres)
                await conn.execute(
                    "INSERT INTO schema_version (version) VALUES ($1)", migration.version
                )


async def open_store(
    *, sqlite: str = ":memory:", dsn: str | None = None, schema: str | None = None
) -> BookStore:
    """PostgreSQL when ``dsn`` is given (tables in ``schema``, else the DSN's search
    path), else SQLite at ``sqlite``; migrated, ready to serve."""
    if dsn:
        return await PostgresBooks.open(dsn, schema)
    return await SQLiteBooks.open(sqlite)
