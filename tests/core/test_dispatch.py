"""How a request finds its route: static paths by table, the router for the rest.

Without edge middleware ``App.__call__`` routes inline; under edge middleware
``Dispatcher.dispatch`` (``_dispatch``) does: every test runs both ways (``edge``).
"""

from __future__ import annotations

import asyncio
import copy
import inspect

import pytest
import uvicorn
from core_asgi import PassThrough

from qake_core import App, Limits, PlainTextResponse, Response
from qake_testing import TestClient


def make_app(edge: bool, **options: object) -> App:
    app = App(**options)  # type: ignore[arg-type]
    if edge:
        app.add_middleware(PassThrough)

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    @app.post("/ping")
    async def ping_post() -> PlainTextResponse:
        return PlainTextResponse("posted", status_code=201)

    @app.get("/items/{item_id:int}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    return app


def test_static_paths_answer_every_registered_method(edge: bool) -> None:
    with TestClient(make_app(edge)) as c:
        assert c.get("/ping").json() == {"pong": "yes"}
        posted = c.post("/ping")
        assert (posted.status_code, posted.text) == (201, "posted")
        head = c.head("/ping")
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == str(len(b'{"pong":"yes"}'))
        assert c.get("/items/7").json() == {"id": 7}


def test_static_paths_fall_back_to_the_router_for_404_405_and_escapes(edge: bool) -> None:
    with TestClient(make_app(edge)) as c:
        not_allowed = c.delete("/ping")
        assert not_allowed.status_code == 405
        assert not_allowed.headers["allow"] == "GET, HEAD, OPTIONS, POST"
        assert c.get("/pong").status_code == 404
        # An escaped spelling of the same path is decoded by the router.
        assert c.get("/p%69ng").json() == {"pong": "yes"}
        # Strict slashes: the router redirects to the registered spelling.
        redirected = c.get("/ping/", follow_redirects=False)
        assert redirected.status_code in (307, 308)
        assert redirected.headers["location"].endswith("/ping")
        assert c.get("/items/x").status_code == 404
        assert c.post("/items/3").status_code == 405


def test_header_limits_hold_on_static_and_parameter_paths(edge: bool) -> None:
    app = make_app(edge, limits=Limits(max_header_count=20))

    with TestClient(app) as c:
        too_many = c.get("/ping", headers=[(f"x-h{i}", "v") for i in range(30)])
        assert too_many.status_code == 431
        assert too_many.headers["content-type"] == "application/problem+json"
        assert c.get("/items/1", headers=[(f"x-h{i}", "v") for i in range(30)]).status_code == 431
        assert c.get("/ping").status_code == 200

    sized = make_app(edge, limits=Limits(max_header_size=2000))
    with TestClient(sized) as c:
        assert c.get("/ping", headers={"x-big": "v" * 3000}).status_code == 431
        assert c.get("/items/1", headers={"x-big": "v" * 3000}).status_code == 431
        assert c.get("/ping").status_code == 200


def test_a_mounted_app_routes_its_paths_below_the_mount(edge: bool) -> None:
    parent = make_app(edge)
    child = make_app(edge)

    @child.get("/hello")
    async def child_hello() -> Response:
        return PlainTextResponse("child")

    parent.mount("/child", child)
    with TestClient(parent) as c:
        assert c.get("/child/hello").text == "child"
        assert c.get("/child/items/5").json() == {"id": 5}
        assert c.get("/child/nothing").status_code == 404
        assert c.get("/ping").json() == {"pong": "yes"}


def test_routes_cannot_be_added_once_the_app_has_started() -> None:
    app = make_app(edge=False)
    with TestClient(app) as c:
        assert c.get("/ping").status_code == 200
        with pytest.raises(RuntimeError, match="cannot add routes after the application"):

            @app.get("/late")
            async def late() -> dict[str, str]:
                return {}


def test_servers_and_adapters_take_the_app_for_asgi_3(edge: bool) -> None:
    """``App.__call__`` returns the route's coroutine from a plain function: uvicorn,
    asyncio and asgiref (OpenTelemetry's adapter) must still see an ASGI 3 app."""
    app = make_app(edge)
    config = uvicorn.Config(app, lifespan="off")
    config.load()
    assert config.interface == "asgi3"
    assert asyncio.iscoroutinefunction(app.__call__)
    assert inspect.iscoroutinefunction(app.__call__)  # Hypercorn's question, any Python
    # The class's plain function carries the marks itself (a server may look there).
    assert asyncio.iscoroutinefunction(type(app).__call__)
    assert getattr(type(app).__call__, "_asgi_single_callable", False) is True
    # asgiref (OpenTelemetry's adapter uses it): in the full test environment, not in
    # qake-core's own (.ci/a_la_carte.sh)
    compatibility = pytest.importorskip("asgiref.compatibility")
    assert compatibility.guarantee_single_callable(app) is app
    with TestClient(app) as c:  # and awaiting what it returns answers the request
        assert c.get("/ping").json() == {"pong": "yes"}


def test_a_copy_of_the_app_is_inspected_as_itself() -> None:
    """The inspected ``__call__`` attribute is bound to its own app: a copy's is the
    copy's, not the original's."""
    app = make_app(edge=False)
    for copied in (copy.copy(app),):
        assert copied.__call__.__self__ is copied
        assert inspect.iscoroutinefunction(copied.__call__)
        with TestClient(copied) as c:
            assert c.get("/ping").json() == {"pong": "yes"}
    assert app.__call__.__self__ is app


@pytest.mark.anyio
async def test_the_inspected_call_attribute_answers_too() -> None:
    """A caller that calls the ``__call__`` it read (not ``app(...)``) is answered."""
    app = make_app(edge=False)
    app.build()
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/ping",
        "raw_path": b"/ping",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "root_path": "",
    }
    await app.__call__(scope, receive, send)
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b'{"pong":"yes"}'
