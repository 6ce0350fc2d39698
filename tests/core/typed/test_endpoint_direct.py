"""Handlers whose inputs are path and query parameters only.

The route runner calls them without building a ``Request`` and sends a declared JSON
response model's bytes directly; these tests pin that this changes nothing a client or
an error handler can see.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from qake_core import App, JSONResponse, Request, Response, ResponseValidationError
from qake_testing import TestClient

DEFAULTS = {"x-frame-options": "DENY", "x-content-type-options": "nosniff"}


class Teapot(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class Point(BaseModel):
    x: int
    y: int


def make_app() -> App:
    app = App(default_headers=DEFAULTS)

    @app.get("/users/{user_id:int}/items/{item_id}")
    async def item(
        user_id: int, item_id: int, limit: int = 10, q: str = "", ratio: float = 1.0
    ) -> dict[str, object]:
        return {"user_id": user_id, "item_id": item_id, "limit": limit, "q": q, "ratio": ratio}

    @app.get("/need")
    async def need(token: str, n: int) -> dict[str, object]:
        return {"token": token, "n": n}

    @app.get("/point/{x:int}")
    async def point(x: int, y: int = 0) -> Point:
        return Point(x=x, y=y)

    @app.get("/dict-point/{x:int}")
    async def dict_point(x: int) -> Point:
        return {"x": x, "y": "2"}  # type: ignore[return-value]

    @app.get("/bad/{x:int}")
    async def bad(x: int) -> Point:
        return {"x": x}  # type: ignore[return-value]

    @app.get("/own/{x:int}")
    async def own(x: int) -> Point:
        return JSONResponse({"own": x}, status_code=202)  # type: ignore[return-value]

    @app.get("/teapot")
    async def teapot(code: int = 418) -> dict[str, int]:
        raise Teapot(code)

    @app.exception_handler(Teapot)
    async def on_teapot(request: Request, exc: Teapot) -> Response:
        # The error handler still gets a full Request.
        return JSONResponse(
            {"status": exc.code, "query": dict(request.query_params)}, status_code=exc.code
        )

    return app


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(make_app(), raise_server_exceptions=False) as c:
        yield c


def test_path_and_query_values(client: Any) -> None:
    r = client.get("/users/1/items/2?limit=5&q=a%20b+c&ratio=0.5")
    assert r.status_code == 200
    assert r.json() == {"user_id": 1, "item_id": 2, "limit": 5, "q": "a b c", "ratio": 0.5}
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-frame-options"] == "DENY"
    assert int(r.headers["content-length"]) == len(r.content)


def test_defaults_blank_values_and_repeated_keys(client: Any) -> None:
    assert client.get("/users/1/items/2").json()["limit"] == 10
    r = client.get("/users/1/items/2?q=&limit=1&limit=7")
    assert r.json()["q"] == ""
    assert r.json()["limit"] == 7


def test_every_problem_is_reported_in_parameter_order(client: Any) -> None:
    r = client.get("/users/1/items/two?limit=many&ratio=x")
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["loc"] for e in r.json()["errors"]] == [
        ["path", "item_id"],
        ["query", "limit"],
        ["query", "ratio"],
    ]
    r = client.get("/need")
    assert [e["loc"] for e in r.json()["errors"]] == [["query", "token"], ["query", "n"]]
    assert all(e["type"] == "missing" for e in r.json()["errors"])


def test_head_sends_the_headers_of_get_without_a_body(client: Any) -> None:
    get = client.get("/point/3?y=4")
    head = client.head("/point/3?y=4")
    assert get.json() == {"x": 3, "y": 4}
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["x-content-type-options"] == "nosniff"


def test_response_models_validate_what_is_not_an_instance(client: Any) -> None:
    assert client.get("/dict-point/1").json() == {"x": 1, "y": 2}
    r = client.get("/bad/1")
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "Field required" not in r.text  # no details leak to the client


def test_a_response_returned_by_the_handler_is_sent_as_is(client: Any) -> None:
    r = client.get("/own/5")
    assert r.status_code == 202
    assert r.json() == {"own": 5}
    assert r.headers["x-frame-options"] == "DENY"


def test_error_handlers_get_the_request(client: Any) -> None:
    r = client.get("/teapot?code=409&extra=1")
    assert r.status_code == 409
    assert r.json() == {"status": 409, "query": {"code": "409", "extra": "1"}}


def test_response_validation_errors_raise_in_tests() -> None:
    with TestClient(make_app()) as c, pytest.raises(ResponseValidationError):
        c.get("/bad/1")


@pytest.mark.parametrize("name", ["content-type", "Content-Length", "transfer-encoding"])
def test_default_headers_cannot_set_framing(name: str) -> None:
    with pytest.raises(ValueError, match="framing"):
        App(default_headers={name: "x"})
