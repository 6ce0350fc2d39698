"""Routes without a response model that return a ``dict`` or a ``list``.

The route runners send such a value as JSON bytes themselves instead of making the
``JSONResponse`` ``to_response`` would make. These tests pin that a client sees the
same answer either way: bytes, status, headers (the app's defaults too), HEAD, errors.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections import OrderedDict
from typing import Any

import pytest
from pydantic import BaseModel

from qake_core import App, Depends, JSONResponse, Request
from qake_testing import TestClient

DEFAULTS = {"x-frame-options": "DENY", "x-content-type-options": "nosniff"}
WHEN = datetime.datetime(2026, 12, 1, 6, 30, tzinfo=datetime.UTC)
ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


class Point(BaseModel):
    x: int
    y: int


def rich(n: int) -> dict[str, Any]:
    """Values orjson writes itself and values pydantic writes for it."""
    return {
        "n": n,
        "when": WHEN,
        "id": ID,
        "price": decimal.Decimal("9.50"),
        "span": datetime.timedelta(seconds=90),
        "points": [Point(x=1, y=2)],
        "tags": {"b"},
        1: "an int key",
    }


def dependency(request: Request) -> str:
    return request.url.path


def make_app() -> App:
    app = App(default_headers=DEFAULTS)

    @app.get("/direct/{n:int}")  # no Request: the direct runner
    async def direct(n: int):  # type: ignore[no-untyped-def]
        return rich(n)

    @app.get("/flat/{n:int}")  # a flat dependency: the flat runner
    async def flat(n: int, path: str = Depends(dependency)):  # type: ignore[no-untyped-def]
        return [rich(n), path]

    @app.get("/reference/{n:int}")  # what the route above used to make
    async def reference(n: int) -> JSONResponse:
        return JSONResponse(rich(n))

    @app.get("/reference-list/{n:int}")
    async def reference_list(n: int, path: str = Depends(dependency)) -> JSONResponse:
        return JSONResponse([rich(n), path.replace("/reference-list", "/flat")])

    @app.post("/created", status_code=201)
    async def created():  # type: ignore[no-untyped-def]
        return {"made": True}

    @app.get("/ordered")  # a dict subclass: to_response, as before
    async def ordered():  # type: ignore[no-untyped-def]
        return OrderedDict([("b", 1), ("a", 2)])

    @app.get("/text")  # not a dict or list: to_response's plain text
    async def text():  # type: ignore[no-untyped-def]
        return "hello"

    @app.get("/unwritable")
    async def unwritable():  # type: ignore[no-untyped-def]
        return {"x": object()}

    return app


@pytest.fixture
def client() -> Any:
    with TestClient(make_app(), raise_server_exceptions=False) as c:
        yield c


def test_a_dict_is_sent_as_the_json_response_would_send_it(client: Any) -> None:
    got, want = client.get("/direct/7"), client.get("/reference/7")
    assert got.status_code == want.status_code == 200
    assert got.content == want.content
    assert got.json()["when"] == "2026-12-01T06:30:00Z"
    assert got.json()["price"] == "9.50"
    assert got.json()["points"] == [{"x": 1, "y": 2}]
    assert list(got.headers.items()) == list(want.headers.items())
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-frame-options"] == "DENY"


def test_a_list_through_the_flat_runner(client: Any) -> None:
    got, want = client.get("/flat/3"), client.get("/reference-list/3")
    assert got.content == want.content
    assert got.json()[1] == "/flat/3"
    assert list(got.headers.items()) == list(want.headers.items())


def test_status_head_and_other_values(client: Any) -> None:
    created = client.post("/created")
    assert (created.status_code, created.json()) == (201, {"made": True})
    assert created.headers["content-length"] == str(len(created.content))
    head = client.head("/direct/7")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(client.get("/direct/7").content))
    assert client.get("/ordered").json() == {"b": 1, "a": 2}
    text = client.get("/text")
    assert (text.headers["content-type"], text.text) == ("text/plain; charset=utf-8", "hello")


def test_a_value_json_cannot_write_is_a_500_problem(client: Any) -> None:
    answer = client.get("/unwritable")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert "object" not in answer.text  # no detail of the failure leaks


def test_the_runners_make_no_json_response_for_a_dict_or_list(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The point of the path: no ``JSONResponse`` is made (its ``render`` never runs)."""

    def refuse(self: JSONResponse, content: Any) -> bytes:
        raise AssertionError("a JSONResponse was made")

    monkeypatch.setattr(JSONResponse, "render", refuse)
    assert client.get("/direct/1").json()["n"] == 1
    assert client.get("/flat/1").json()[1] == "/flat/1"
    assert client.get("/reference/1").status_code == 500  # the spy does work
