"""Typed handler parameters: path, query, header, cookie, injected objects."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel

from qake_core import (
    App,
    BackgroundTasks,
    Cookie,
    Header,
    Path,
    Query,
    Request,
    Response,
)
from qake_testing import TestClient


def _errors(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors: list[dict[str, Any]] = response.json()["errors"]
    for e in errors:
        assert set(e) == {"loc", "msg", "type"}
    return errors


def test_path_params_converted_and_validated() -> None:
    app = App()

    @app.get("/a/{x:int}/{y:float}")
    async def typed(x: int, y: float) -> dict[str, Any]:
        return {"x": x, "y": y}

    @app.get("/b/{x}")
    async def plain(x: int) -> dict[str, int]:
        return {"x": x}

    @app.get("/c/{u:uuid}/{n:int}")
    async def constrained(u: uuid.UUID, n: Annotated[int, Path(ge=10)]) -> dict[str, str]:
        return {"u": str(u), "n": str(n)}

    client = TestClient(app)
    assert client.get("/a/3/1.5").json() == {"x": 3, "y": 1.5}
    assert client.get("/b/7").json() == {"x": 7}
    assert _errors(client.get("/b/seven")) == [
        {
            "loc": ["path", "x"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "type": "int_parsing",
        }
    ]
    u = uuid.uuid4()
    assert client.get(f"/c/{u}/10").json() == {"u": str(u), "n": "10"}
    assert _errors(client.get(f"/c/{u}/9"))[0]["loc"] == ["path", "n"]


def test_query_scalars_defaults_and_constraints() -> None:
    app = App()

    @app.get("/q")
    async def q(
        limit: int,
        offset: int = 0,
        name: str | None = Query(None, max_length=5),
        flag: bool = False,
        kind: Literal["a", "b"] = "a",
        page: Annotated[int, Query(ge=1, le=10, alias="p")] = 1,
    ) -> dict[str, Any]:
        return {
            "limit": limit,
            "offset": offset,
            "name": name,
            "flag": flag,
            "kind": kind,
            "page": page,
        }

    client = TestClient(app)
    assert client.get("/q?limit=5").json() == {
        "limit": 5,
        "offset": 0,
        "name": None,
        "flag": False,
        "kind": "a",
        "page": 1,
    }
    got = client.get("/q?limit=5&offset=2&name=abc&flag=true&kind=b&p=3").json()
    assert got == {"limit": 5, "offset": 2, "name": "abc", "flag": True, "kind": "b", "page": 3}
    errors = _errors(client.get("/q?offset=x&name=toolong&kind=c&p=11"))
    assert [e["loc"] for e in errors] == [
        ["query", "limit"],
        ["query", "offset"],
        ["query", "name"],
        ["query", "kind"],
        ["query", "p"],
    ]
    assert errors[0]["type"] == "missing"
    assert errors[4]["type"] == "less_than_equal"
    # huge and non-ASCII digits go through pydantic, never a 500
    assert _errors(client.get("/q?limit=" + "9" * 5000))[0]["loc"] == ["query", "limit"]
    assert client.get("/q?limit=-3").json()["limit"] == -3


def test_query_lists_from_repeated_keys() -> None:
    app = App()

    @app.get("/l")
    async def lst(
        ids: list[int] = Query([]),
        tags: Annotated[list[str], Query()] = ["x"],  # noqa: B006 - never mutated
    ) -> Any:
        return {"ids": ids, "tags": tags}

    @app.get("/r")
    async def required(ids: list[int]) -> Any:
        return ids

    client = TestClient(app)
    assert client.get("/l?ids=1&ids=2&tags=a&tags=b").json() == {"ids": [1, 2], "tags": ["a", "b"]}
    assert client.get("/l").json() == {"ids": [], "tags": ["x"]}
    assert _errors(client.get("/l?ids=1&ids=z"))[0]["loc"] == ["query", "ids", 1]
    assert _errors(client.get("/r"))[0] == {
        "loc": ["query", "ids"],
        "msg": "Field required",
        "type": "missing",
    }


class Filters(BaseModel):
    q: str | None = None
    limit: int = 10
    tags: list[str] = []


def test_query_model_group() -> None:
    app = App()

    @app.get("/f")
    async def f(filters: Annotated[Filters, Query()]) -> Filters:
        return filters

    client = TestClient(app)
    assert client.get("/f?q=x&limit=3&tags=a&tags=b").json() == {
        "q": "x",
        "limit": 3,
        "tags": ["a", "b"],
    }
    assert client.get("/f").json() == {"q": None, "limit": 10, "tags": []}
    assert _errors(client.get("/f?limit=no"))[0]["loc"] == ["query", "limit"]


def test_headers_and_cookies() -> None:
    app = App()

    @app.get("/h")
    async def h(
        x_token: str = Header(),
        user_agent: str | None = Header(None),
        raw_name: str | None = Header(None, convert_underscores=False),
        x_num: list[int] = Header([]),
        session: str | None = Cookie(None),
        count: int = Cookie(0, ge=0),
    ) -> Any:
        return [x_token, user_agent, raw_name, x_num, session, count]

    client = TestClient(app, cookies={"session": "s", "count": "2"})
    got = client.get(
        "/h", headers={"X-Token": "t", "user-agent": "ua", "raw_name": "r", "x-num": "1"}
    ).json()
    assert got == ["t", "ua", "r", [1], "s", 2]
    errors = _errors(TestClient(app, cookies={"count": "-1"}).get("/h"))
    assert [e["loc"] for e in errors] == [["header", "x-token"], ["cookie", "count"]]


def test_secret_input_is_not_echoed() -> None:
    app = App()

    @app.get("/s")
    async def s(x_api_key: Annotated[str, Header(min_length=40)]) -> str:
        return "ok"

    response = TestClient(app).get("/s", headers={"x-api-key": "hunter2-secret"})
    assert response.status_code == 422
    assert "hunter2" not in response.text


def even(v: int) -> int:
    if v % 2:
        raise ValueError("must be even")
    return v


#: A reusable validated type: use it as any parameter's annotation.
Even = Annotated[int, AfterValidator(even)]


def test_reusable_annotated_validator_type() -> None:
    app = App()

    @app.get("/e/{n}")
    async def e(n: Even, m: Annotated[Even, Query(ge=0)] = 0) -> list[int]:
        return [n, m]

    client = TestClient(app)
    assert client.get("/e/4?m=2").json() == [4, 2]
    errors = _errors(client.get("/e/3?m=5"))
    assert [e["loc"] for e in errors] == [["path", "n"], ["query", "m"]]
    assert "must be even" in errors[0]["msg"]


def test_injected_request_response_background() -> None:
    app = App()
    done: list[str] = []

    @app.get("/i/{x}")
    async def i(
        x: str, request: Request, response: Response, tasks: BackgroundTasks
    ) -> dict[str, str]:
        response.headers["x-extra"] = "1"
        response.set_cookie("seen", "yes")
        response.status_code = 202
        tasks.add_task(done.append, x)
        return {"path": request.url.path}

    r = TestClient(app).get("/i/abc")
    assert r.status_code == 202
    assert r.json() == {"path": "/i/abc"}
    assert r.headers["x-extra"] == "1"
    assert r.cookies["seen"] == "yes"
    assert done == ["abc"]


def test_sync_handler_runs_in_thread() -> None:
    import threading

    app = App(thread_limiter_tokens=2)
    main = threading.get_ident()

    @app.get("/t")
    def t(n: int = 1) -> dict[str, bool]:
        return {"other_thread": threading.get_ident() != main, "n": n == 1}

    assert TestClient(app).get("/t").json() == {"other_thread": True, "n": True}
    assert app.thread_limiter.total_tokens == 2
