"""``examples/db_app.py``: CRUD on a lifespan-managed database, pagination, filters,
ETags with If-None-Match / If-Match (304, 428, 412), 409 on a duplicate ISBN, and SQL
payloads kept as data — on SQLite always, and on the PostgreSQL server at
127.0.0.1:5432 when it answers (tables in a schema of their own, dropped after)."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from examples.db_app import create_app
from examples.db_store import BookIn, open_store
from qakeapi import QakeAPI
from qakeapi.testing import AsyncTestClient, TestClient, assert_no_findings, scan

ROOT = Path(__file__).resolve().parents[2]
PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"

AppFactory = Callable[[], QakeAPI]


def postgres_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return False
    return True


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """``create_app``'s arguments for a fresh, empty database."""
    if request.param == "sqlite":
        yield {"sqlite": str(tmp_path / "books.sqlite3")}
        return
    if not postgres_answers():
        pytest.skip("no PostgreSQL server answers on 127.0.0.1:5432")
    schema = f"db_app_test_{uuid.uuid4().hex}"
    asyncio.run(_pg(f'CREATE SCHEMA "{schema}"'))
    try:
        yield {"dsn": PG_DSN, "schema": schema}
    finally:
        asyncio.run(_pg(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def client(backend: dict[str, Any]) -> Iterator[TestClient]:
    with TestClient(create_app(**backend)) as c:
        yield c


def book(n: int = 0, **fields: Any) -> dict[str, Any]:
    data = {
        "title": f"Book {n}",
        "author": "Ann Author",
        "isbn": f"978{n:010d}",
        "published": f"{2000 + n % 20}-01-0{1 + n % 9}",
        "in_stock": True,
    }
    return {**data, **fields}


def create(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/books", json=book(**fields))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_read_replace_patch_delete(client: TestClient) -> None:
    created = client.post("/books", json=book(1, title="Dune"))
    assert created.status_code == 201
    dune = created.json()
    assert dune == {**book(1, title="Dune"), "id": dune["id"], "version": 1}
    assert created.headers["location"] == f"/books/{dune['id']}"
    assert created.headers["etag"] == f'"{dune["id"]}-1"'

    read = client.get(created.headers["location"])
    assert read.status_code == 200
    assert read.json() == dune
    assert read.headers["etag"] == created.headers["etag"]

    replaced = client.put(
        f"/books/{dune['id']}",
        json=book(1, title="Dune Messiah", in_stock=False),
        headers={"If-Match": read.headers["etag"]},
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["title"] == "Dune Messiah"
    assert replaced.json()["in_stock"] is False
    assert replaced.json()["version"] == 2
    assert replaced.headers["etag"] == f'"{dune["id"]}-2"'

    patched = client.patch(
        f"/books/{dune['id']}",
        json={"author": "Frank Herbert", "title": None},
        headers={"If-Match": replaced.headers["etag"]},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json() == {
        **replaced.json(),
        "author": "Frank Herbert",
        "version": 3,
    }

    deleted = client.delete(f"/books/{dune['id']}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert client.get(f"/books/{dune['id']}").status_code == 404
    assert client.delete(f"/books/{dune['id']}").status_code == 404
    # ids are not reused: a new book never takes the deleted one's ETag
    assert create(client, n=2)["id"] > dune["id"]


def test_unknown_books_and_invalid_input(client: TestClient) -> None:
    missing = client.get("/books/12345")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert client.put("/books/9", json=book(), headers={"If-Match": '"9-1"'}).status_code == 404
    assert client.patch("/books/9", json={}, headers={"If-Match": "*"}).status_code == 404
    assert client.delete("/books/9", headers={"If-Match": "*"}).status_code == 404
    assert client.get("/books/0").status_code == 422
    assert client.get(f"/books/{2**63}").status_code == 422
    for bad in (
        book(isbn="12345"),
        book(title=""),
        book(title="x" * 201),
        book(title="nul\x00byte"),
        book(published="yesterday"),
        {**book(), "id": 7},
        {"title": "only a title"},
    ):
        assert client.post("/books", json=bad).status_code == 422, bad
    assert client.get("/books").json()["total"] == 0


def test_duplicate_isbn_is_a_conflict(client: TestClient) -> None:
    first = create(client, n=1)
    second = create(client, n=2)
    again = client.post("/books", json=book(3, isbn=first["isbn"]))
    assert again.status_code == 409
    assert again.json()["status"] == 409
    assert first["isbn"] in again.json()["detail"]
    etag = f'"{second["id"]}-1"'
    put = client.put(
        f"/books/{second['id']}", json=book(2, isbn=first["isbn"]), headers={"If-Match": etag}
    )
    assert put.status_code == 409
    patch = client.patch(
        f"/books/{second['id']}", json={"isbn": first["isbn"]}, headers={"If-Match": etag}
    )
    assert patch.status_code == 409
    # the refused writes changed nothing
    assert client.get(f"/books/{second['id']}").json() == second
    assert client.get("/books").json()["total"] == 2


def test_if_none_match_answers_304_for_the_current_version(client: TestClient) -> None:
    created = create(client)
    url, etag = f"/books/{created['id']}", f'"{created["id"]}-1"'
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        not_modified = client.get(url, headers={"If-None-Match": header})
        assert not_modified.status_code == 304, header
        assert not_modified.content == b""
        assert not_modified.headers["etag"] == etag
    for header in ('"other"', f'"{created["id"]}-2"', "garbage", ""):
        assert client.get(url, headers={"If-None-Match": header}).status_code == 200, header
    client.patch(url, json={"in_stock": False}, headers={"If-Match": etag})
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] == f'"{created["id"]}-2"'


def test_writes_require_a_current_if_match(client: TestClient) -> None:
    created = create(client)
    url, etag = f"/books/{created['id']}", f'"{created["id"]}-1"'
    required = client.put(url, json=book(title="New"))
    assert required.status_code == 428
    assert required.headers["content-type"] == "application/problem+json"
    assert client.patch(url, json={"title": "New"}).status_code == 428
    for stale in ('"1-0"', f'"{created["id"]}-2"', f"W/{etag}", "garbage", '"x", "y"'):
        refused = client.put(url, json=book(title="New"), headers={"If-Match": stale})
        assert refused.status_code == 412, stale
        assert (
            client.patch(url, json={"title": "New"}, headers={"If-Match": stale}).status_code == 412
        )
        assert client.delete(url, headers={"If-Match": stale}).status_code == 412
    assert client.get(url).json() == created  # nothing changed

    current = client.put(url, json=book(title="New"), headers={"If-Match": f'"a", {etag}'})
    assert current.status_code == 200
    # the ETag used once is stale now
    again = client.put(url, json=book(title="Newer"), headers={"If-Match": etag})
    assert again.status_code == 412
    anything = client.patch(url, json={"title": "Any"}, headers={"If-Match": "*"})
    assert anything.status_code == 200
    assert anything.json()["version"] == 3
    assert client.delete(url, headers={"If-Match": anything.headers["etag"]}).status_code == 204


async def _race(app: QakeAPI, writers: int) -> tuple[list[int], dict[str, Any]]:
    async with AsyncTestClient(app) as client:
        created = (await client.post("/books", json=book())).json()
        url, etag = f"/books/{created['id']}", f'"{created["id"]}-1"'

        async def put(n: int) -> int:
            response = await client.put(
                url, json=book(title=f"Writer {n}"), headers={"If-Match": etag}
            )
            return response.status_code

        statuses = await asyncio.gather(*(put(n) for n in range(writers)))
        final: dict[str, Any] = (await client.get(url)).json()
        return sorted(statuses), final


def test_concurrent_writers_with_one_etag_one_wins(backend: dict[str, Any]) -> None:
    statuses, final = asyncio.run(_race(create_app(**backend), writers=8))
    assert statuses == [200] + [412] * 7
    assert final["version"] == 2
    assert final["title"].startswith("Writer ")


def test_the_version_check_is_in_the_update(backend: dict[str, Any]) -> None:
    """Two writers that both passed the ETag check: the UPDATE's WHERE lets one through."""

    async def race() -> list[Any]:
        store = await open_store(**backend)
        try:
            created = await store.create(BookIn.model_validate(book()))
            updates = [
                store.update(created.id, 1, BookIn.model_validate(book(title=f"W{n}")))
                for n in range(5)
            ]
            return list(await asyncio.gather(*updates))
        finally:
            await store.aclose()

    results = asyncio.run(race())
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0].version == 2


def test_pagination(client: TestClient) -> None:
    for n in range(25):
        create(client, n=n)
    first = client.get("/books").json()
    assert (first["total"], first["limit"], first["offset"]) == (25, 20, 0)
    assert [b["title"] for b in first["items"]] == [f"Book {n}" for n in range(20)]
    assert first["next_offset"] == 20
    rest = client.get("/books", params={"offset": first["next_offset"]}).json()
    assert [b["title"] for b in rest["items"]] == [f"Book {n}" for n in range(20, 25)]
    assert rest["next_offset"] is None
    small = client.get("/books", params={"limit": 1, "offset": 3}).json()
    assert [b["title"] for b in small["items"]] == ["Book 3"]
    assert small["next_offset"] == 4
    assert len(client.get("/books", params={"limit": 100}).json()["items"]) == 25
    beyond = client.get("/books", params={"offset": 1000}).json()
    assert (beyond["items"], beyond["total"], beyond["next_offset"]) == ([], 25, None)
    for params in (
        {"limit": 0},
        {"limit": 101},
        {"limit": "ten"},
        {"offset": -1},
        {"offset": 10**7},
        {"sort": "isbn"},
        {"sort": "id; DROP TABLE books"},
        {"unknown": "1"},
    ):
        refused = client.get("/books", params=params)
        assert refused.status_code == 422, params
    assert client.get("/books").json()["total"] == 25


def test_filters_and_sorting(client: TestClient) -> None:
    create(client, n=1, title="Alpha", author="Kim", published="2001-05-01", in_stock=True)
    create(client, n=2, title="alpine", author="Lee", published="2010-01-01", in_stock=False)
    create(client, n=3, title="Beta", author="Kim", published="2020-12-31", in_stock=False)
    create(client, n=4, title="100% Alpha_", author="Kim", published="1999-01-01")

    def titles(**params: Any) -> list[str]:
        response = client.get("/books", params=params)
        assert response.status_code == 200, response.text
        return [b["title"] for b in response.json()["items"]]

    assert titles(author="Kim") == ["Alpha", "Beta", "100% Alpha_"]
    assert titles(author="kim") == []
    assert titles(title_prefix="al") == ["Alpha", "alpine"]
    assert titles(title_prefix="ALP", author="Lee") == ["alpine"]
    assert titles(in_stock="false") == ["alpine", "Beta"]
    assert titles(in_stock="true", author="Kim") == ["Alpha", "100% Alpha_"]
    assert titles(published_from="2001-05-01", published_to="2010-01-01") == ["Alpha", "alpine"]
    assert titles(published_from="2011-01-01") == ["Beta"]
    assert titles(published_to="2000-01-01") == ["100% Alpha_"]
    assert titles(published_from="2021-01-01", published_to="2000-01-01") == []
    # LIKE's wildcards in a prefix are literal characters
    assert titles(title_prefix="100%") == ["100% Alpha_"]
    assert titles(title_prefix="%") == []
    assert titles(title_prefix="_") == []
    assert titles(title_prefix="100% Alpha_") == ["100% Alpha_"]
    assert titles(title_prefix="100% Alpha__") == []
    assert titles(sort="title") == ["100% Alpha_", "Alpha", "Beta", "alpine"]
    assert titles(sort="-published") == ["Beta", "alpine", "Alpha", "100% Alpha_"]
    assert titles(sort="-id", limit=2) == ["100% Alpha_", "Beta"]
    counted = client.get("/books", params={"author": "Kim", "limit": 1}).json()
    assert (counted["total"], counted["next_offset"]) == (3, 1)
    assert client.get("/books", params={"published_from": "soon"}).status_code == 422


PAYLOADS = (
    "'; DROP TABLE books; --",
    "x' OR '1'='1",
    '" OR ""="',
    "1; DELETE FROM books WHERE 1=1",
    "Robert'); DROP TABLE schema_version;--",
    "\\' UNION SELECT * FROM schema_version --",
)


def test_sql_payloads_are_stored_and_matched_as_data(client: TestClient) -> None:
    ids = []
    for n, payload in enumerate(PAYLOADS):
        created = create(client, n=n, title=payload, author=payload)
        assert created["title"] == payload
        ids.append(created["id"])
    for book_id, payload in zip(ids, PAYLOADS, strict=True):
        assert client.get(f"/books/{book_id}").json()["author"] == payload
        found = client.get("/books", params={"author": payload}).json()
        assert [b["id"] for b in found["items"]] == [book_id]
        prefixed = client.get("/books", params={"title_prefix": payload}).json()
        assert [b["id"] for b in prefixed["items"]] == [book_id]
    assert client.get("/books", params={"author": "x' OR '1'='1' --"}).json()["total"] == 0
    assert client.get("/books").json()["total"] == len(PAYLOADS)
    etag = f'"{ids[0]}-1"'
    patched = client.patch(
        f"/books/{ids[0]}", json={"title": PAYLOADS[1]}, headers={"If-Match": etag}
    )
    assert patched.json()["title"] == PAYLOADS[1]
    assert client.get("/books").json()["total"] == len(PAYLOADS)


def test_migrations_run_once_and_data_survives_a_restart(backend: dict[str, Any]) -> None:
    with TestClient(create_app(**backend)) as first:
        created = create(first, n=1)
    with TestClient(create_app(**backend)) as second:
        assert second.get(f"/books/{created['id']}").json() == created
        assert create(second, n=2)["id"] == created["id"] + 1

    async def versions() -> list[int]:
        store: Any = await open_store(**backend)
        try:
            if "dsn" in backend:
                rows = await store._pool.fetch("SELECT version FROM schema_version")
            else:
                async with store._conn.execute("SELECT version FROM schema_version") as cur:
                    rows = await cur.fetchall()
            return sorted(row[0] for row in rows)
        finally:
            await store.aclose()

    assert asyncio.run(versions()) == [1, 2]


def test_the_sqlite_file_holds_what_the_api_wrote(tmp_path: Path) -> None:
    path = tmp_path / "books.sqlite3"
    with TestClient(create_app(sqlite=str(path))) as client:
        create(client, n=1, title="On disk")
    rows = sqlite3.connect(path).execute("SELECT title, version FROM books").fetchall()
    assert rows == [("On disk", 1)]


def test_the_module_app_reads_its_database_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "env.sqlite3"
    monkeypatch.setenv("DB_APP_SQLITE", str(path))
    monkeypatch.delenv("DB_APP_DSN", raising=False)
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.delitem(sys.modules, "examples.db_app", raising=False)
    from examples.db_app import app

    with TestClient(app) as client:
        create(client, n=1)
    assert path.exists()


def test_the_openapi_document_lists_every_status(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/books"]["post"]["responses"]) >= {"201", "409", "422"}
    assert set(paths["/books/{book_id}"]["get"]["responses"]) >= {"200", "304", "404"}
    for method in ("put", "patch"):
        statuses = set(paths["/books/{book_id}"][method]["responses"])
        assert statuses >= {"200", "404", "409", "412", "428", "422"}
    assert set(paths["/books/{book_id}"]["delete"]["responses"]) >= {"204", "404", "412"}
    listed = {p["name"] for p in paths["/books"]["get"]["parameters"]}
    assert listed >= {"limit", "offset", "author", "title_prefix", "in_stock", "sort"}


def test_the_security_scanner_finds_nothing(backend: dict[str, Any]) -> None:
    app = create_app(**backend)
    report = scan(app)
    assert report.findings == [], report.summary()
    assert len(report.operations) >= 6
    assert_no_findings(create_app(**backend))
