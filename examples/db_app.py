"""A CRUD service on a lifespan-managed database: books with pagination, filters,
optimistic concurrency through ETags, and 409 on a duplicate ISBN.

* ``POST /books`` answers 201 with ``Location`` and ``ETag``; a taken ISBN is a 409.
* ``GET /books/{id}`` sends a strong ``ETag: "<id>-<version>"``; ``If-None-Match``
  with it answers 304.
* ``GET /books`` pages (``limit`` 1-100, default 20; ``offset``) and filters (``author``,
  ``title_prefix``, ``in_stock``, ``published_from``/``published_to``), sorted by a key
  from an allow-list (``sort=-published``).
* ``PUT``/``PATCH /books/{id}`` require ``If-Match`` (RFC 9110 §13.1.1): without it
  428 (RFC 6585), with a stale ETag 412. The version check is in the ``UPDATE``'s
  ``WHERE``, so of two clients holding the same ETag exactly one wins.
* ``DELETE /books/{id}`` answers 204; an ``If-Match`` is optional, and checked if sent.

The database is opened and migrated by the app's lifespan (``examples/db_store.py``):
SQLite through aiosqlite by default, at ``DB_APP_SQLITE`` (default
``<temp dir>/qakeapi-db-app.sqlite3``: kept across restarts, shared by workers, outside
the source tree; ``:memory:`` for a throwaway one); PostgreSQL through asyncpg when
``DB_APP_DSN`` names a DSN (``postgresql://postgres@127.0.0.1:5432/test``), with the
tables in ``DB_APP_SCHEMA`` if set. Serve it with ``qake run examples.db_app:app``.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path as FilePath
from typing import Annotated, Any

from pydantic import BaseModel, Field, SecretStr

from examples.db_store import (
    MAX_ID,
    Book,
    BookIn,
    BookPatch,
    BookQuery,
    BookStore,
    DuplicateIsbn,
    open_store,
)
from qakeapi import (
    Depends,
    Header,
    HTTPException,
    Path,
    QakeAPI,
    Query,
    Request,
    Response,
    Router,
    Settings,
    SettingsConfigDict,
)

DEFAULT_SQLITE = str(FilePath(tempfile.gettempdir()) / "qakeapi-db-app.sqlite3")


class Page(BaseModel):
    items: list[Book]
    total: int
    limit: int
    offset: int
    next_offset: int | None


def get_store(request: Request) -> BookStore:
    """The store the lifespan opened (lifespan state)."""
    store: BookStore = request.state.store
    return store


Books = Annotated[BookStore, Depends(get_store)]
BookId = Annotated[int, Path(ge=1, le=MAX_ID)]
# An entity-tag list is short; a longer header is refused (422), not parsed.
IfMatch = Annotated[str | None, Header(max_length=1024)]
IfNoneMatch = Annotated[str | None, Header(max_length=1024)]

_ETAG = re.compile(r'\s*(W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')


def etag(book: Book) -> str:
    return f'"{book.id}-{book.version}"'


def matches(header: str, book: Book, *, weak: bool) -> bool:
    """Whether the ``If-Match`` (strong comparison) or ``If-None-Match`` (``weak``)
    list in ``header`` names ``book``'s current ETag (RFC 9110 §8.8.3.2, §13.1)."""
    if header.strip() == "*":
        return True
    current = etag(book)
    for found in _ETAG.finditer(header):
        is_weak, tag = found.group(1), found.group(2)
        if tag == current and (weak or not is_weak):
            return True
    return False


def not_found(book_id: int) -> HTTPException:
    return HTTPException(404, f"There is no book {book_id}.")


def duplicate(isbn: str) -> HTTPException:
    return HTTPException(409, f"Another book has the ISBN {isbn}.")


def stale() -> HTTPException:
    return HTTPException(412, "The book has changed since that ETag: fetch it again.")


def described(response: Response, book: Book) -> Book:
    response.headers["ETag"] = etag(book)
    return book


ETAG_HEADER: dict[str, Any] = {"ETag": {"description": 'The book\'s version, "<id>-<version>"'}}
NOT_FOUND: dict[int | str, Any] = {404: {"description": "There is no such book"}}
CONFLICT: dict[int | str, Any] = {409: {"description": "Another book has this ISBN"}}
PRECONDITIONS: dict[int | str, Any] = {
    412: {"description": "If-Match does not name the book's current version"},
    428: {"description": "If-Match is required"},
}


router = Router(tags=["books"])


@router.post(
    "/books",
    status_code=201,
    responses={
        201: {
            "description": "Created",
            "headers": {**ETAG_HEADER, "Location": {"description": "The book's URL"}},
        },
        **CONFLICT,
    },
)
async def create_book(body: BookIn, store: Books, response: Response) -> Book:
    try:
        book = await store.create(body)
    except DuplicateIsbn:
        raise duplicate(body.isbn) from None
    response.headers["Location"] = f"/books/{book.id}"
    return described(response, book)


@router.get("/books")
async def list_books(query: Annotated[BookQuery, Query()], store: Books) -> Page:
    items, total = await store.search(query)
    following = query.offset + len(items)
    return Page(
        items=items,
        total=total,
        limit=query.limit,
        offset=query.offset,
        next_offset=following if following < total else None,
    )


@router.get(
    "/books/{book_id:int}",
    response_model=Book,
    responses={
        200: {"description": "The book", "headers": ETAG_HEADER},
        304: {"description": "If-None-Match names the current version"},
        **NOT_FOUND,
    },
)
async def read_book(
    book_id: BookId, store: Books, response: Response, if_none_match: IfNoneMatch = None
) -> Any:
    book = await store.get(book_id)
    if book is None:
        raise not_found(book_id)
    if if_none_match is not None and matches(if_none_match, book, weak=True):
        return Response(status_code=304, headers={"ETag": etag(book)})
    return described(response, book)


async def replace(
    store: BookStore, book_id: int, if_match: str | None, change: Callable[[Book], BookIn]
) -> Book:
    """Apply ``change(current) -> BookIn`` if ``If-Match`` names the current version."""
    if if_match is None:
        raise HTTPException(428, "Send If-Match with the book's ETag to change it.")
    current = await store.get(book_id)
    if current is None:
        raise not_found(book_id)
    if not matches(if_match, current, weak=False):
        raise stale()
    new = change(current)
    try:
        updated = await store.update(book_id, current.version, new)
    except DuplicateIsbn:
        raise duplicate(new.isbn) from None
    if updated is None:  # another writer changed (or deleted) it since our read
        raise stale()
    return updated


WRITE_RESPONSES: dict[int | str, Any] = {
    200: {"description": "The changed book", "headers": ETAG_HEADER},
    **NOT_FOUND,
    **CONFLICT,
    **PRECONDITIONS,
}


@router.put("/books/{book_id:int}", responses=WRITE_RESPONSES)
async def replace_book(
    book_id: BookId, body: BookIn, store: Books, response: Response, if_match: IfMatch = None
) -> Book:
    book = await replace(store, book_id, if_match, lambda _: body)
    return described(response, book)


@router.patch("/books/{book_id:int}", responses=WRITE_RESPONSES)
async def patch_book(
    book_id: BookId,
    body: BookPatch,
    store: Books,
    response: Response,
    if_match: IfMatch = None,
) -> Book:
    changes = body.model_dump(exclude_none=True)

    def change(current: Book) -> BookIn:
        return BookIn(**{**current.model_dump(exclude={"id", "version"}), **changes})

    book = await replace(store, book_id, if_match, change)
    return described(response, book)


@router.delete(
    "/books/{book_id:int}",
    status_code=204,
    responses={**NOT_FOUND, 412: PRECONDITIONS[412]},
)
async def delete_book(book_id: BookId, store: Books, if_match: IfMatch = None) -> Response:
    version: int | None = None
    if if_match is not None:
        current = await store.get(book_id)
        if current is None:
            raise not_found(book_id)
        if not matches(if_match, current, weak=False):
            raise stale()
        version = current.version
    if not await store.delete(book_id, version):
        if version is not None:
            raise stale()  # changed or deleted between our read and the delete
        raise not_found(book_id)
    return Response(status_code=204)


def create_app(
    *, sqlite: str = DEFAULT_SQLITE, dsn: str | None = None, schema: str | None = None
) -> QakeAPI:
    """The example app on SQLite at ``sqlite``, or on PostgreSQL when ``dsn`` is given."""

    @asynccontextmanager
    async def lifespan(app: QakeAPI) -> AsyncIterator[dict[str, Any]]:
        store = await open_store(sqlite=sqlite, dsn=dsn, schema=schema)
        try:
            yield {"store": store}
        finally:
            await store.aclose()

    app = QakeAPI(title="Books", version="1.0", lifespan=lifespan)
    app.include_router(router)
    return app


class DbAppSettings(Settings):
    """The ``DB_APP_*`` variables (from the environment, a ``.env`` file or files of those
    names in ``/run/secrets``; empty means unset)."""

    model_config = SettingsConfigDict(env_prefix="DB_APP_")

    #: ``DB_APP_SQLITE``: the SQLite file when no DSN is given.
    sqlite: str = DEFAULT_SQLITE
    #: ``DB_APP_DSN``: a PostgreSQL DSN (it may hold a password: kept out of reprs).
    dsn: SecretStr | None = None
    #: ``DB_APP_SCHEMA``: the PostgreSQL schema of the tables.
    db_schema: str | None = Field(None, validation_alias="DB_APP_SCHEMA")


def app_from_settings(settings: DbAppSettings) -> QakeAPI:
    """:func:`create_app` configured by ``settings``."""
    dsn = settings.dsn.get_secret_value() if settings.dsn else None
    return create_app(sqlite=settings.sqlite, dsn=dsn, schema=settings.db_schema)


app = app_from_settings(DbAppSettings.load())
