"""Routes whose dependencies are plain async callables take a flat, compiled path; it
must answer exactly as the general resolution does (which runs while overrides are set).

Each app is checked on both paths: ``GENERAL`` is an override of a callable no route
uses, so that ``app.dependency_overrides`` is not empty and the general path answers.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from qake_core import (
    App,
    BackgroundTasks,
    Body,
    Depends,
    Form,
    Header,
    HTTPException,
    JSONResponse,
    Query,
    Request,
    RequestValidationError,
    Response,
    Security,
    SecurityScopes,
    default_headers_of,
)
from qake_core._default_headers import DEFAULT_HEADERS_KEY
from qake_testing import TestClient

calls: list[str] = []


def _unused() -> None:
    """Never a dependency of any route: overriding it only switches paths."""


GENERAL = {_unused: _unused}


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    calls.clear()
    yield
    calls.clear()


@pytest.fixture(params=["flat", "general"])
def path(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def client_for(app: App, path: str) -> TestClient:
    if path == "general":
        app.dependency_overrides.update(GENERAL)
    return TestClient(app)


async def counted() -> str:
    calls.append("counted")
    return "value"


async def token(x_token: Annotated[str, Header()]) -> str:
    calls.append("token")
    if x_token != "secret":
        raise HTTPException(401, "bad token", {"WWW-Authenticate": "Bearer"})
    return x_token


async def paging(limit: Annotated[int, Query(le=100)] = 10, offset: int = 0) -> list[int]:
    calls.append("paging")
    return [limit, offset]


class Auth:
    """A callable object with an async ``__call__`` taking the request and scopes."""

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> str:
        calls.append(f"auth:{security_scopes.scope_str}")
        return request.headers.get("x-user", "anonymous")


auth = Auth()


async def outer(v: Annotated[str, Depends(counted)]) -> str:
    calls.append("outer")
    return v + "!"


async def user(tok: Annotated[str, Depends(token)]) -> str:
    calls.append("user")
    return "alice"


class Boom(Exception):
    pass


async def broken() -> str:
    raise Boom


async def who(request: Request) -> str:
    return request.headers.get("x-user", "nobody")


async def teapot() -> Response:
    return JSONResponse({"made": "here"}, status_code=418)


async def register(request: Request, fail: bool = False) -> bool:
    async def cleanup(exc: BaseException | None) -> None:
        calls.append(type(exc).__name__ if exc is not None else "none")

    request.add_cleanup(cleanup)
    return fail


def test_a_dependency_declared_twice_runs_once(path: str) -> None:
    app = App()

    @app.get("/twice")
    async def twice(
        a: Annotated[str, Depends(counted)],
        b: Annotated[str, Depends(outer)],
        c: Annotated[str, Depends(counted)],
        d: Annotated[str, Depends(counted, use_cache=False)],
    ) -> dict[str, str]:
        return {"a": a, "b": b, "c": c, "d": d}

    r = client_for(app, path).get("/twice")
    assert r.json() == {"a": "value", "b": "value!", "c": "value", "d": "value"}
    assert calls == ["counted", "outer", "counted"]


def test_overrides_switch_paths_per_request() -> None:
    app = App()

    @app.get("/me")
    async def me(tok: Annotated[str, Depends(token)]) -> dict[str, str]:
        return {"tok": tok}

    client = TestClient(app)
    assert client.get("/me", headers={"x-token": "secret"}).json() == {"tok": "secret"}

    async def fake() -> str:
        return "fake"

    app.dependency_overrides[token] = fake
    assert client.get("/me").json() == {"tok": "fake"}
    app.dependency_overrides = {}  # a new dict: read on each request
    assert client.get("/me").status_code == 422
    assert client.get("/me", headers={"x-token": "secret"}).json() == {"tok": "secret"}
    assert calls == ["token", "token"]  # not while overridden, nor with the header missing


def test_errors_of_several_parameters_make_one_422(path: str) -> None:
    app = App()

    @app.get("/items", dependencies=[Depends(counted)])
    async def items(
        q: int,
        page: Annotated[list[int], Depends(paging)],
        tok: Annotated[str, Depends(token)],
    ) -> dict[str, Any]:
        calls.append("handler")
        return {"q": q, "page": page, "tok": tok}

    client = client_for(app, path)
    r = client.get("/items?q=x&limit=500", headers={"x-token": "secret"})
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["errors"]] == [["query", "q"], ["query", "limit"]]
    # a dependency whose inputs are valid still runs; the handler never does
    assert calls == ["counted", "token"]
    calls.clear()
    r = client.get("/items?q=1&limit=5", headers={"x-token": "secret"})
    assert r.json() == {"q": 1, "page": [5, 0], "tok": "secret"}
    assert calls == ["counted", "paging", "token", "handler"]


def test_a_missing_header_of_a_sub_dependency_is_a_422(path: str) -> None:
    app = App()

    @app.get("/me")
    async def me(u: Annotated[str, Depends(user)]) -> str:
        return u

    r = client_for(app, path).get("/me")
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["header", "x-token"]
    assert calls == []


def test_an_http_exception_from_a_dependency_is_answered(path: str) -> None:
    app = App()

    @app.get("/me")
    async def me(tok: Annotated[str, Depends(token)]) -> str:
        calls.append("handler")
        return tok

    r = client_for(app, path).get("/me", headers={"x-token": "wrong"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["detail"] == "bad token"
    assert calls == ["token"]


def test_an_error_handler_gets_the_request_of_a_route_without_one(path: str) -> None:
    app = App()

    @app.exception_handler(Boom)
    async def on_boom(request: Request, exc: Exception) -> Response:
        return JSONResponse({"path": request.url.path}, status_code=418)

    @app.get("/boom")
    async def boom(v: Annotated[str, Depends(broken)]) -> str:
        return v

    r = client_for(app, path).get("/boom")
    assert (r.status_code, r.json()) == (418, {"path": "/boom"})


def test_security_scopes_make_separate_calls(path: str) -> None:
    app = App()

    @app.get("/me")
    async def me(
        a: Annotated[str, Security(auth, scopes=["read"])],
        b: Annotated[str, Security(auth, scopes=["read", "write"])],
        c: Annotated[str, Security(auth, scopes=["read"])],
        d: Annotated[str, Depends(auth)],
    ) -> list[str]:
        return [a, b, c, d]

    r = client_for(app, path).get("/me", headers={"x-user": "bob"})
    assert r.json() == ["bob", "bob", "bob", "bob"]
    assert calls == ["auth:read", "auth:read write", "auth:"]


def test_sync_handler_request_and_responses(path: str) -> None:
    app = App()

    @app.get("/sync")
    def sync(request: Request, user: Annotated[str, Depends(who)]) -> dict[str, str]:
        return {"user": user, "path": request.url.path}

    @app.get("/response", status_code=201)
    async def response(r: Annotated[Response, Depends(teapot)]) -> Response:
        return r

    @app.head("/head")
    async def head(user: Annotated[str, Depends(who)]) -> dict[str, str]:
        return {"user": user}

    client = client_for(app, path)
    assert client.get("/sync", headers={"x-user": "eve"}).json() == {
        "user": "eve",
        "path": "/sync",
    }
    r = client.get("/response")
    assert (r.status_code, r.json()) == (418, {"made": "here"})
    r = client.head("/head")
    assert (r.status_code, r.content, r.headers["content-type"]) == (
        200,
        b"",
        "application/json",
    )


def test_a_clean_up_a_dependency_registers_runs(path: str) -> None:
    app = App()

    @app.get("/c")
    async def c(fail: Annotated[bool, Depends(register)]) -> str:
        if fail:
            raise HTTPException(409)
        return "ok"

    client = client_for(app, path)
    assert client.get("/c").json() == "ok"
    assert calls == ["none"]
    assert client.get("/c?fail=true").status_code == 409
    assert calls == ["none", "HTTPException"]


def test_hook_middleware_runs_the_flat_endpoint(path: str) -> None:
    app = App()

    @app.middleware()
    async def mark(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["x-hook"] = "yes"
        return response

    @app.get("/me")
    async def me(
        tok: Annotated[str, Depends(token)], again: Annotated[str, Depends(token)]
    ) -> list[str]:
        return [tok, again]

    client = client_for(app, path)
    r = client.get("/me", headers={"x-token": "secret"})
    assert (r.json(), r.headers["x-hook"]) == (["secret", "secret"], "yes")
    assert calls == ["token"]
    assert client.get("/me", headers={"x-token": "no"}).status_code == 401
    assert client.get("/me").status_code == 422


async def parent(p: int, page: Annotated[list[int], Depends(paging)]) -> int:
    calls.append("parent")
    return p + page[0]


def test_a_callable_reads_its_parameters_before_its_dependencies_run(path: str) -> None:
    app = App()

    @app.get("/items/{item_id}", dependencies=[Depends(paging)])
    async def item(
        item_id: int, total: Annotated[int, Depends(parent)], tok: Annotated[str, Depends(token)]
    ) -> list[int]:
        return [item_id, total]

    client = client_for(app, path)
    ok = client.get("/items/3?p=1&limit=5", headers={"x-token": "secret"})
    assert ok.json() == [3, 6]
    assert calls == ["paging", "parent", "token"]
    calls.clear()
    r = client.get("/items/x?p=y&limit=500", headers={"x-token": "secret"})
    assert r.status_code in (404, 422)  # the router may refuse the path segment first
    calls.clear()
    r = client.get("/items/3?p=y&limit=500", headers={"x-token": "secret"})
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["errors"]] == [["query", "limit"], ["query", "p"]]
    assert calls == ["token"]


def test_a_traceback_through_the_flat_path_names_the_route() -> None:
    app = App()

    @app.get("/boom")
    async def boom(v: Annotated[str, Depends(broken)]) -> str:
        return v

    with pytest.raises(Boom) as info:
        TestClient(app).get("/boom")
    files = [str(entry.path) for entry in info.traceback]
    assert "<qake dependencies of route GET '/boom' (handler " in "".join(files)


async def session() -> AsyncIterator[str]:
    calls.append("open")
    try:
        yield "db"
    except HTTPException as exc:
        calls.append(f"saw {exc.status_code}")
        raise
    except RequestValidationError:
        calls.append("saw 422")
        raise
    except LookupError as exc:
        calls.append("saw lookup")
        raise HTTPException(404, "no such row") from exc
    finally:
        calls.append("close")


def transaction(db: Annotated[str, Depends(session)]) -> Iterator[str]:
    calls.append(f"begin in main thread: {threading.current_thread() is threading.main_thread()}")
    try:
        yield db + "+tx"
    except Exception:
        calls.append("rollback")
        raise
    calls.append("commit")


def settings() -> str:
    calls.append(
        f"settings in main thread: {threading.current_thread() is threading.main_thread()}"
    )
    return "cfg"


def test_yield_and_sync_dependencies_clean_up_in_order(path: str) -> None:
    app = App()

    @app.get("/rows")
    async def rows(
        tx: Annotated[str, Depends(transaction)],
        cfg: Annotated[str, Depends(settings)],
        again: Annotated[str, Depends(session)],
        fail: str = "",
    ) -> list[str]:
        calls.append("handler")
        if fail == "http":
            raise HTTPException(409)
        if fail == "lookup":
            raise KeyError("row")
        return [tx, cfg, again]

    client = client_for(app, path)
    assert client.get("/rows").json() == ["db+tx", "cfg", "db"]
    assert calls == [
        "open",
        "begin in main thread: False",
        "settings in main thread: False",
        "handler",
        "commit",
        "close",
    ]
    calls.clear()
    assert client.get("/rows?fail=http").status_code == 409
    assert calls[3:] == ["handler", "rollback", "saw 409", "close"]
    calls.clear()
    r = client.get("/rows?fail=lookup")
    assert (r.status_code, r.json()["detail"]) == (404, "no such row")
    assert calls[3:] == ["handler", "rollback", "saw lookup", "close"]


def test_a_refused_parameter_is_thrown_into_entered_yield_dependencies(path: str) -> None:
    app = App()

    @app.get("/page")
    async def page(
        db: Annotated[str, Depends(session)], page: Annotated[list[int], Depends(paging)]
    ) -> list[Any]:
        calls.append("handler")
        return [db, page]

    client = client_for(app, path)
    assert client.get("/page?limit=500").status_code == 422
    assert calls == ["open", "saw 422", "close"]
    calls.clear()
    assert client.get("/page?limit=5").json() == ["db", [5, 0]]
    assert calls == ["open", "paging", "handler", "close"]


class Item(BaseModel):
    name: str


async def item_owner(owner: Annotated[str, Body()] = "nobody") -> str:
    calls.append("owner")
    return owner.upper()


def test_a_json_body_and_dependencies(path: str) -> None:
    app = App()

    @app.post("/items")
    async def create(
        item: Item, label: Annotated[str, Depends(item_owner)], tok: Annotated[str, Depends(token)]
    ) -> dict[str, str]:
        return {"name": item.name, "label": label, "tok": tok}

    client = client_for(app, path)
    secret = {"x-token": "secret"}
    r = client.post("/items", json={"item": {"name": "pen"}, "owner": "ann"}, headers=secret)
    assert r.json() == {"name": "pen", "label": "ANN", "tok": "secret"}
    assert calls == ["owner", "token"]
    calls.clear()
    r = client.post("/items", json={"item": {}}, headers={})
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["errors"]] == [
        ["body", "item", "name"],
        ["header", "x-token"],
    ]
    assert calls == []
    r = client.post("/items", content=b"{}", headers={"content-type": "text/plain", **secret})
    assert r.status_code == 415


def test_a_form_body_with_a_sync_handler(path: str) -> None:
    app = App()

    @app.post("/login")
    def login(
        username: Annotated[str, Form()], tok: Annotated[str, Depends(token)]
    ) -> dict[str, str]:
        return {"user": username, "tok": tok}

    client = client_for(app, path)
    secret = {"x-token": "secret"}
    assert client.post("/login", data={"username": "ann"}, headers=secret).json() == {
        "user": "ann",
        "tok": "secret",
    }
    r = client.post("/login", data={}, headers=secret)
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "username"]
    assert calls == ["token", "token"]  # it runs: only the body failed


async def remember(response: Response, tasks: BackgroundTasks) -> str:
    response.set_cookie("seen", "1")
    response.status_code = 202
    tasks.add_task(calls.append, "task from dependency")
    return "remembered"


def test_an_injected_response_and_background_tasks_are_merged(path: str) -> None:
    app = App()

    @app.get("/merge")
    async def merge(
        note: Annotated[str, Depends(remember)], response: Response, tasks: BackgroundTasks
    ) -> dict[str, str]:
        response.headers["x-handler"] = "yes"
        tasks.add_task(calls.append, "task from handler")
        return {"note": note}

    @app.get("/own")
    async def own(note: Annotated[str, Depends(remember)]) -> Response:
        return JSONResponse({"own": note}, status_code=200)

    client = client_for(app, path)
    r = client.get("/merge")
    assert (r.status_code, r.json()) == (202, {"note": "remembered"})
    assert (r.cookies["seen"], r.headers["x-handler"]) == ("1", "yes")
    assert calls == ["task from dependency", "task from handler"]
    calls.clear()
    r = client.get("/own")
    assert (r.status_code, r.json(), r.cookies["seen"]) == (202, {"own": "remembered"}, "1")
    assert calls == ["task from dependency"]


async def pool() -> AsyncIterator[str]:
    calls.append("create pool")
    yield "pool"
    calls.append("close pool")


async def pooled_user(p: Annotated[str, Depends(pool, scope="app")], x_user: str = "ann") -> str:
    return f"{x_user}@{p}"


def test_app_scoped_dependencies_are_made_once_and_closed(path: str) -> None:
    app = App()

    @app.get("/pooled")
    async def pooled(
        user: Annotated[str, Depends(pooled_user)], p: Annotated[str, Depends(pool, scope="app")]
    ) -> list[str]:
        return [user, p]

    with client_for(app, path) as client:
        assert client.get("/pooled").json() == ["ann@pool", "pool"]
        assert client.get("/pooled?x_user=bob").json() == ["bob@pool", "pool"]
        assert client.get("/pooled?x_user=").json() == ["@pool", "pool"]
        assert calls == ["create pool"]
    assert calls == ["create pool", "close pool"]
    with client_for(app, path) as client:  # a new lifespan makes it again
        assert client.get("/pooled").json() == ["ann@pool", "pool"]
    assert calls == ["create pool", "close pool", "create pool", "close pool"]


SIGNED_IN = default_headers_of({"x-content-type-options": "nosniff", "cache-control": "no-store"})


async def sign_in(request: Request) -> str:
    # What qake-security's set_user does for an app with Cache-Control for signed-in users.
    request.scope[DEFAULT_HEADERS_KEY] = SIGNED_IN
    return "alice"


class SignInMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/edge"):
            scope[DEFAULT_HEADERS_KEY] = SIGNED_IN
        if scope["type"] == "http" and scope["path"].startswith("/bare"):
            scope.pop(DEFAULT_HEADERS_KEY, None)
        await self.app(scope, receive, send)


def test_default_headers_a_dependency_or_middleware_sets_are_sent(path: str) -> None:
    app = App(default_headers={"x-content-type-options": "nosniff"})
    app.add_middleware(SignInMiddleware)

    @app.get("/model")
    async def model(user: Annotated[str, Depends(sign_in)]) -> dict[str, str]:
        return {"user": user}

    @app.get("/raw")
    async def raw(user: Annotated[str, Depends(sign_in)]) -> Any:
        return {"user": user}

    @app.get("/edge")
    async def edge() -> dict[str, str]:  # no Request: the direct runner
        return {"user": "edge"}

    @app.get("/plain")
    async def plain() -> dict[str, str]:
        return {"user": "none"}

    @app.get("/bare/model")
    async def bare(user: Annotated[str, Depends(who)]) -> dict[str, str]:
        return {"user": user}

    client = client_for(app, path)
    for _ in range(2):  # the runners remember merged defaults: a second time too
        for url in ("/model", "/raw", "/edge"):
            r = client.get(url)
            assert (r.headers["cache-control"], r.headers["x-content-type-options"]) == (
                "no-store",
                "nosniff",
            ), url
            assert r.headers["content-type"] == "application/json"
        for url in ("/plain", "/bare/model"):
            r = client.get(url)
            assert "cache-control" not in r.headers
            expected = None if url.startswith("/bare") else "nosniff"
            assert r.headers.get("x-content-type-options") == expected, url
