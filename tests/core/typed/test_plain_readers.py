"""The shortcuts of the typed plan pinned against the general path.

A handler whose inputs are router-converted path parameters and plain ``str``/``int``
query parameters is read by one inline loop (``_extraction._plain_query_reader``), and a
route whose only input is one JSON body model is answered by the flat runner
(``_endpoint.BodyPlan``). Each is compared here with the same handler taking a
``Request`` too, which sends it through the general reading: same status, same body.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from qake_core import App, Request
from qake_testing import TestClient


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


def make_app() -> App:
    app = App()

    async def user_item(
        user_id: int, item_id: int, n: int, limit: int = 10, q: str = "", word: str = "w"
    ) -> dict[str, object]:
        return {"user_id": user_id, "item_id": item_id, "n": n, "limit": limit, "q": q}

    async def user_item_request(
        request: Request,
        user_id: int,
        item_id: int,
        n: int,
        limit: int = 10,
        q: str = "",
        word: str = "w",
    ) -> dict[str, object]:
        return {"user_id": user_id, "item_id": item_id, "n": n, "limit": limit, "q": q}

    app.get("/fast/{user_id:int}/items/{item_id:int}")(user_item)
    app.get("/slow/{user_id:int}/items/{item_id:int}")(user_item_request)

    async def create(item: Item) -> Item:
        return item

    async def create_request(item: Item, request: Request) -> Item:
        return item

    app.post("/fast/items", status_code=201)(create)
    app.post("/slow/items", status_code=201)(create_request)
    return app


QUERIES = [
    "n=1",
    "n=1&limit=5&q=abc",
    "limit=5&q=abc",  # n missing
    "",  # n missing, no query at all
    "n=x&limit=y",  # two refusals, in parameter order
    "n=-3&limit=+4",  # not plain digits: pydantic decides
    "n=%31%32&q=a+b",  # escapes
    "n=1&n=2&q=first&q=second",  # the last value wins
    "n=" + "9" * 18,
    "n=" + "9" * 30,
    "n=\u0661\u0662",  # other scripts' digits
    "n=1&limit=",
    "n&limit=2",
    "n=1&word=",
    "n= 7",
]


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(make_app()) as client:
        yield client


@pytest.mark.parametrize("query", QUERIES)
def test_plain_query_reader_matches_the_general_reading(client: Any, query: str) -> None:
    fast = client.get(f"/fast/1/items/2?{query}")
    slow = client.get(f"/slow/1/items/2?{query}")
    assert (fast.status_code, fast.json()) == (slow.status_code, slow.json())


def test_plain_query_reader_values(client: Any) -> None:
    response = client.get("/fast/7/items/8?n=3&limit=5&q=abc")
    assert response.status_code == 200
    assert response.json() == {"user_id": 7, "item_id": 8, "n": 3, "limit": 5, "q": "abc"}
    refused = client.get("/fast/7/items/8?limit=x")
    assert refused.status_code == 422
    assert [e["loc"] for e in refused.json()["errors"]] == [["query", "n"], ["query", "limit"]]


BODIES = [
    b'{"name":"widget","price":9.5,"tags":["a","b"]}',
    b'{"name":"widget","price":"9.5"}',
    b'{"name":"widget"}',
    b'{"price":"x"}',
    b"not json",
    b"[]",
    b"",
]


@pytest.mark.parametrize("body", BODIES)
def test_json_body_plan_matches_the_general_reading(client: Any, body: bytes) -> None:
    headers = {"content-type": "application/json"}
    fast = client.post("/fast/items", content=body, headers=headers)
    slow = client.post("/slow/items", content=body, headers=headers)
    assert fast.status_code == slow.status_code
    assert fast.json() == slow.json()
    assert fast.headers.get("content-type") == slow.headers.get("content-type")


def test_json_body_plan_answers_the_declared_model(client: Any) -> None:
    response = client.post("/fast/items", json={"name": "w", "price": 1, "extra": True})
    assert response.status_code == 201
    assert response.json() == {"name": "w", "price": 1.0, "tags": []}
    assert response.headers["content-length"] == str(len(response.content))


def test_json_body_plan_under_dependency_overrides() -> None:
    app = make_app()
    app.dependency_overrides[print] = print  # any override: the general endpoint answers
    with TestClient(app) as client:
        response = client.post("/fast/items", json={"name": "w", "price": 2})
    assert response.status_code == 201
    assert response.json() == {"name": "w", "price": 2.0, "tags": []}
