"""Dependency injection: sub-dependencies, caching, yield clean-up, overrides, scopes."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest

from qake_core import App, Depends, Header, HTTPException, Query, Request, Router
from qake_testing import TestClient

calls: list[str] = []


async def token(x_token: str = Header()) -> str:
    calls.append("token")
    if x_token != "secret":
        raise HTTPException(401)
    return x_token


def paging(limit: int = Query(10, le=100), offset: int = 0) -> tuple[int, int]:
    calls.append("paging")
    return limit, offset


async def user(tok: Annotated[str, Depends(token)], request: Request) -> dict[str, str]:
    calls.append("user")
    return {"name": "alice", "via": tok, "path": request.url.path}


@pytest.fixture(autouse=True)
def _reset() -> None:
    calls.clear()


def test_sub_dependencies_and_caching() -> None:
    app = App()

    @app.get("/me")
    async def me(
        u: dict[str, str] = Depends(user),
        tok: str = Depends(token),
        page: tuple[int, int] = Depends(paging),
        again: tuple[int, int] = Depends(paging, use_cache=False),
    ) -> Any:
        return {"user": u, "tok": tok, "page": page, "again": again}

    client = TestClient(app)
    r = client.get("/me?limit=5", headers={"x-token": "secret"})
    assert r.json() == {
        "user": {"name": "alice", "via": "secret", "path": "/me"},
        "tok": "secret",
        "page": [5, 0],
        "again": [5, 0],
    }
    assert calls.count("token") == 1
    assert calls.count("paging") == 2
    assert client.get("/me", headers={"x-token": "bad"}).status_code == 401
    r = client.get("/me?limit=500")
    assert [e["loc"] for e in r.json()["errors"]] == [["header", "x-token"], ["query", "limit"]]


def test_route_router_app_dependencies_order() -> None:
    order: list[str] = []

    def mark(name: str) -> Any:
        async def dep() -> None:
            order.append(name)

        dep.__qualname__ = name
        return dep

    app = App(dependencies=[Depends(mark("app"))])
    inner = Router(prefix="/inner", dependencies=[Depends(mark("inner"))])

    @inner.get("/x", dependencies=[Depends(mark("route"))])
    async def x() -> str:
        order.append("handler")
        return "ok"

    outer = Router(prefix="/outer", dependencies=[Depends(mark("outer"))])
    outer.include_router(inner, dependencies=[Depends(mark("include"))])
    app.include_router(outer, prefix="/api", dependencies=[Depends(mark("app-include"))])
    assert TestClient(app).get("/api/outer/inner/x").json() == "ok"
    assert order == ["app", "app-include", "outer", "include", "inner", "route", "handler"]
    route = next(r for r in app.routes if r.path == "/api/outer/inner/x")
    assert [d.call.__qualname__ for d in route.spec.dependencies] == order[:-1]


def test_yield_dependencies_cleanup_order_and_errors() -> None:
    events: list[str] = []

    async def db() -> AsyncIterator[str]:
        events.append("db open")
        try:
            yield "db"
        except ValueError as exc:
            events.append(f"db saw {exc}")
            raise
        finally:
            events.append("db close")

    def tx(conn: str = Depends(db)) -> Iterator[str]:
        events.append(f"tx begin on {threading.current_thread() is threading.main_thread()}")
        try:
            yield conn + "+tx"
        except ValueError:
            events.append("tx rollback")  # swallowed: fine
        else:
            events.append("tx commit")

    app = App()

    @app.get("/ok")
    async def ok(t: str = Depends(tx)) -> str:
        events.append("handler")
        return t

    @app.get("/boom")
    async def boom(t: str = Depends(tx)) -> str:
        raise ValueError("bad")

    @app.get("/http")
    async def http(t: str = Depends(tx)) -> str:
        raise HTTPException(409)

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/ok").json() == "db+tx"
    assert events == ["db open", "tx begin on False", "handler", "tx commit", "db close"]
    events.clear()
    assert client.get("/boom").status_code == 500
    assert events == ["db open", "tx begin on False", "tx rollback", "db saw bad", "db close"]
    events.clear()
    assert client.get("/http").status_code == 409
    assert events[-2:] == ["tx rollback", "db close"] or events[-1] == "db close"


def test_cleanup_runs_after_response_is_sent() -> None:
    seen: list[str] = []

    async def dep(request: Request) -> AsyncIterator[None]:
        yield
        seen.append("cleanup")

    app = App()

    @app.get("/")
    async def handler(d: None = Depends(dep)) -> dict[str, int]:
        return {"a": 1}

    assert TestClient(app).get("/").json() == {"a": 1}
    assert seen == ["cleanup"]


def test_overrides_at_request_time() -> None:
    app = App()

    @app.get("/me")
    async def me(u: dict[str, str] = Depends(user)) -> dict[str, str]:
        return u

    client = TestClient(app)
    assert client.get("/me").status_code == 422
    app.dependency_overrides[token] = lambda: "fake"
    assert client.get("/me").json()["via"] == "fake"

    async def fake_user(q: str = "x") -> dict[str, str]:
        return {"name": q}

    app.dependency_overrides[user] = fake_user
    assert client.get("/me?q=bob").json() == {"name": "bob"}
    app.dependency_overrides.clear()
    assert client.get("/me", headers={"x-token": "secret"}).json()["name"] == "alice"


class Pager:
    def __init__(self, page: int = 1) -> None:
        self.page = page
        self.thread = threading.current_thread() is threading.main_thread()


def test_sync_dependency_in_thread_and_class_dependency() -> None:
    app = App()

    @app.get("/p")
    async def p(pager: Annotated[Pager, Depends()]) -> dict[str, Any]:
        return {"page": pager.page, "main": pager.thread}

    assert TestClient(app).get("/p?page=3").json() == {"page": 3, "main": False}


def test_app_scoped_dependency_created_once_and_closed_on_shutdown() -> None:
    log: list[str] = []

    async def pool() -> AsyncIterator[str]:
        log.append("create")
        yield "pool"
        log.append("close")

    app = App()

    @app.get("/")
    async def handler(p: str = Depends(pool, scope="app")) -> str:
        return p

    with TestClient(app) as client:
        assert client.get("/").json() == "pool"
        assert client.get("/").json() == "pool"
        assert log == ["create"]
    assert log == ["create", "close"]


def test_the_app_closes_its_app_scoped_values_after_its_shutdown_hooks() -> None:
    log: list[str] = []

    async def pool() -> AsyncIterator[str]:
        yield "pool"
        log.append("close pool")

    app = App(on_shutdown=[lambda: log.append("shutdown hook")])

    @app.on_event("startup")
    def started() -> None:
        app.on_shutdown.append(lambda: log.append("hook added at startup"))

    @app.get("/")
    async def handler(p: str = Depends(pool, scope="app")) -> str:
        return p

    with TestClient(app) as client:
        assert client.get("/").json() == "pool"
    assert log == ["shutdown hook", "hook added at startup", "close pool"]
    assert app.app_scoped_values.values == {}


def test_dependency_errors_never_call_handler() -> None:
    called: list[bool] = []
    app = App()

    @app.get("/")
    async def handler(p: tuple[int, int] = Depends(paging)) -> str:
        called.append(True)
        return "x"

    r = TestClient(app).get("/?offset=z")
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["query", "offset"]
    assert called == []
    assert "paging" not in calls
