"""API versioning: ``deprecated=<datetime>``, ``sunset=``, ``successor=``,
``deprecation_link=`` and ``sunset_link=`` on routes, routers and ``include_router``
send ``Deprecation`` (RFC 9745), ``Sunset`` (RFC 8594) and ``Link`` (RFC 8288) with
every response of the route, errors included; bad values are refused naming the route."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from core_asgi import PassThrough
from pydantic import BaseModel

from qake_core import (
    DEFAULT_HEADERS_KEY,
    App,
    HTMLResponse,
    HTTPException,
    JSONResponse,
    Lifecycle,
    PlainTextResponse,
    Response,
    Router,
    StreamingResponse,
    default_headers_of,
    lifecycle_headers,
)
from qake_core._route_options import route_option_hooks
from qake_core.types import Receive, Scope, Send
from qake_testing import TestClient

DEPRECATED = datetime(2026, 1, 1, tzinfo=UTC)  # 1767225600
SUNSET = datetime(2027, 7, 1, tzinfo=UTC)
DEPRECATION_VALUE = "@1767225600"
SUNSET_VALUE = "Thu, 01 Jul 2027 00:00:00 GMT"
LIFECYCLE_NAMES = ("deprecation", "sunset", "link")


class Item(BaseModel):
    id: int
    name: str


def lifecycle_of(response: Any) -> dict[str, str]:
    return {name: response.headers[name] for name in LIFECYCLE_NAMES if name in response.headers}


def versioned_app(*, edge: bool = False, **app_options: Any) -> App:
    """``/v1`` deprecated with a sunset and a successor, ``/v2`` current: the same
    handlers mounted twice."""
    items = Router(tags=["items"])

    @items.get("/items/{item_id}", response_model=Item)
    async def read_item(item_id: int) -> Item:
        if item_id == 0:
            raise HTTPException(404, "no such item")
        if item_id == 13:
            raise RuntimeError("unlucky")
        return Item(id=item_id, name="widget")

    @items.post("/items", status_code=201)
    async def create_item(item: Item) -> Item:
        return item

    @items.get("/plain")
    async def plain() -> Response:
        return PlainTextResponse("plain")

    @items.get("/page")
    async def page() -> Response:
        return HTMLResponse("<p>page</p>")

    @items.get("/stream")
    async def stream() -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"a"
            yield b"b"

        return StreamingResponse(chunks(), media_type="text/plain")

    @items.get("/own-sunset")
    async def own_sunset() -> Response:
        return PlainTextResponse("own", headers={"Sunset": "Wed, 01 Jan 2031 00:00:00 GMT"})

    @items.get("/negotiated", produces=["application/json"])
    async def negotiated() -> dict[str, int]:
        return {"n": 1}

    app = App(**app_options)
    app.include_router(
        items,
        prefix="/v1",
        deprecated=DEPRECATED,
        sunset=SUNSET,
        successor="/v2",
        deprecation_link="https://example.com/docs/v1-deprecation",
    )
    app.include_router(items, prefix="/v2")
    if edge:
        app.add_middleware(PassThrough)
    return app


V1_HEADERS = {
    "deprecation": DEPRECATION_VALUE,
    "sunset": SUNSET_VALUE,
    "link": '</v2>; rel="successor-version", '
    '<https://example.com/docs/v1-deprecation>; rel="deprecation"',
}


def test_every_answer_of_a_deprecated_version_carries_the_headers(edge: bool) -> None:
    with TestClient(versioned_app(edge=edge), raise_server_exceptions=False) as client:
        answers = {
            "model": client.get("/v1/items/1"),
            "head": client.head("/v1/items/1"),
            "created": client.post("/v1/items", json={"id": 2, "name": "b"}),
            "plain": client.get("/v1/plain"),
            "html": client.get("/v1/page"),
            "stream": client.get("/v1/stream"),
            "not found (HTTPException)": client.get("/v1/items/0"),
            "422 (path)": client.get("/v1/items/x"),
            "422 (body)": client.post("/v1/items", json={"id": "x"}),
            "422 (bad JSON)": client.post(
                "/v1/items", content=b"{", headers={"content-type": "application/json"}
            ),
            "500": client.get("/v1/items/13"),
            "406": client.get("/v1/negotiated", headers={"accept": "text/csv"}),
        }
        current = [
            client.get("/v2/items/1"),
            client.get("/v2/items/x"),
            client.get("/v2/stream"),
            client.get("/v2/items/13"),
        ]
    statuses = {name: r.status_code for name, r in answers.items()}
    assert statuses == {
        "model": 200,
        "head": 200,
        "created": 201,
        "plain": 200,
        "html": 200,
        "stream": 200,
        "not found (HTTPException)": 404,
        "422 (path)": 422,
        "422 (body)": 422,
        "422 (bad JSON)": 422,
        "500": 500,
        "406": 406,
    }
    for name, response in answers.items():
        assert lifecycle_of(response) == V1_HEADERS, name
        assert len(response.headers.get_list("deprecation")) == 1, name
    assert answers["stream"].text == "ab"
    for response in current:
        assert lifecycle_of(response) == {}


def test_a_response_setting_its_own_header_keeps_its_value() -> None:
    with TestClient(versioned_app()) as client:
        response = client.get("/v1/own-sunset")
    assert response.headers.get_list("sunset") == ["Wed, 01 Jan 2031 00:00:00 GMT"]
    assert response.headers["deprecation"] == DEPRECATION_VALUE


def test_the_app_default_headers_are_kept_and_the_document_set_too() -> None:
    app = versioned_app()
    app.set_default_headers(
        {"x-content-type-options": "nosniff", "link": "</style.css>; rel=preload"},
        documents={"x-content-type-options": "nosniff", "x-frame-options": "DENY"},
    )
    with TestClient(app) as client:
        api = client.get("/v1/items/1")
        page = client.get("/v1/page")
        current = client.get("/v2/items/1")
    assert api.headers["x-content-type-options"] == "nosniff"
    # Link is a list: the app's default Link and the route's both travel.
    assert api.headers.get_list("link") == ["</style.css>; rel=preload", V1_HEADERS["link"]]
    assert api.headers["deprecation"] == DEPRECATION_VALUE
    assert page.headers["x-frame-options"] == "DENY"
    assert lifecycle_of(page) == V1_HEADERS
    assert "deprecation" not in current.headers
    assert current.headers["link"] == "</style.css>; rel=preload"


def test_defaults_changed_on_the_way_are_merged_too() -> None:
    """An edge layer (or a dependency, as ``set_user``) may point the request at other
    default headers: the route merges its own with whichever it finds, each time."""
    other = default_headers_of({"cache-control": "no-store"})

    class Authenticated:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["query_string"] == b"user=1":
                scope[DEFAULT_HEADERS_KEY] = other
            await self.app(scope, receive, send)

    app = versioned_app(default_headers={"x-app": "1"})
    app.add_middleware(Authenticated)
    with TestClient(app) as client:
        seen = [client.get("/v1/items/1", params={"user": str(i % 2)}) for i in range(4)]
    for i, response in enumerate(seen):
        assert lifecycle_of(response) == V1_HEADERS
        if i % 2:
            assert response.headers["cache-control"] == "no-store"
            assert "x-app" not in response.headers
        else:
            assert response.headers["x-app"] == "1"
            assert "cache-control" not in response.headers


def test_route_values_over_router_values_over_include_router_values() -> None:
    early_sunset = datetime(2026, 6, 30, 12, 0, 0, tzinfo=UTC)
    v1 = Router(prefix="/v1", deprecated=DEPRECATED, successor="/v2")

    @v1.get("/a")
    async def a() -> dict[str, str]:
        return {}

    @v1.get("/b", sunset=early_sunset, successor="https://api.example.com/v2/b")
    async def b() -> dict[str, str]:
        return {}

    @v1.get("/c", deprecated=False)
    async def c() -> dict[str, str]:
        return {}

    app = App()
    app.include_router(v1, sunset=SUNSET, sunset_link="https://example.com/sunset")
    with TestClient(app) as client:
        got = {path: lifecycle_of(client.get(f"/v1/{path}")) for path in "abc"}
    assert got["a"] == {
        "deprecation": DEPRECATION_VALUE,
        "sunset": SUNSET_VALUE,
        "link": '</v2>; rel="successor-version", <https://example.com/sunset>; rel="sunset"',
    }
    assert got["b"] == {
        "deprecation": DEPRECATION_VALUE,
        "sunset": "Tue, 30 Jun 2026 12:00:00 GMT",
        "link": '<https://api.example.com/v2/b>; rel="successor-version", '
        '<https://example.com/sunset>; rel="sunset"',
    }
    # deprecated=False on the route: not deprecated (no date) but the sunset still holds.
    assert got["c"] == {
        "sunset": SUNSET_VALUE,
        "link": '</v2>; rel="successor-version", <https://example.com/sunset>; rel="sunset"',
    }
    deprecated = {route.path: route.deprecated for route in app.routes}
    assert deprecated == {"/v1/a": True, "/v1/b": True, "/v1/c": False}


def test_a_deprecated_router_deprecates_the_routers_it_includes() -> None:
    inner = Router()

    @inner.get("/x")
    async def x() -> dict[str, str]:
        return {}

    v1 = Router(prefix="/v1", deprecated=DEPRECATED)
    v1.include_router(inner, prefix="/inner")
    old = Router(prefix="/old", deprecated=True)
    old.include_router(inner)
    app = App()
    app.include_router(v1)
    app.include_router(old)
    with TestClient(app) as client:
        dated = client.get("/v1/inner/x")
        flagged = client.get("/old/x")
    assert lifecycle_of(dated) == {"deprecation": DEPRECATION_VALUE}
    assert lifecycle_of(flagged) == {}  # True alone: no date for the header (OpenAPI only)
    assert all(route.deprecated for route in app.routes)


def test_dates_time_zones_and_fractions() -> None:
    app = App()
    plus_two = timezone(timedelta(hours=2))

    @app.get("/zoned", deprecated=datetime(2026, 1, 1, 2, 0, 0, 999_999, tzinfo=plus_two))
    async def zoned() -> dict[str, str]:
        return {}

    @app.get("/day", deprecated=date(2026, 1, 1), sunset=date(2027, 7, 1))
    async def day() -> dict[str, str]:
        return {}

    @app.get("/old", deprecated=datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC))
    async def old() -> dict[str, str]:
        return {}

    @app.get("/sunset-only", sunset=SUNSET)
    async def sunset_only() -> dict[str, str]:
        return {}

    with TestClient(app) as client:
        zoned_headers = lifecycle_of(client.get("/zoned"))
        day_headers = lifecycle_of(client.get("/day"))
        old_headers = lifecycle_of(client.get("/old"))
        sunset_headers = lifecycle_of(client.get("/sunset-only"))
    # 02:00:00.999999 at +02:00 is 00:00:00.999999 UTC: whole seconds, rounded down.
    assert zoned_headers == {"deprecation": DEPRECATION_VALUE}
    assert day_headers == {"deprecation": DEPRECATION_VALUE, "sunset": SUNSET_VALUE}
    assert old_headers == {"deprecation": "@-1"}
    assert sunset_headers == {"sunset": SUNSET_VALUE}
    # An sf-date is "@" and an integer (RFC 9651 section 3.3.7).
    assert re.fullmatch(r"@-?[0-9]{1,15}", zoned_headers["deprecation"])
    assert {r.path: r.deprecated for r in app.routes}["/sunset-only"] is False


def test_routes_without_the_options_pay_nothing() -> None:
    """No hook and no wrapper for a route without a dated deprecation, sunset or link: it
    keeps the direct runner (no ``Request``, no hook chain), its handle is that runner's."""
    app = App()

    @app.get("/plain")
    async def plain() -> dict[str, int]:
        return {"a": 1}

    @app.get("/flagged", deprecated=True)
    async def flagged() -> dict[str, int]:
        return {"a": 1}

    @app.get("/dated", deprecated=DEPRECATED)
    async def dated() -> dict[str, int]:
        return {"a": 1}

    app.build()
    routes = {route.path: route for route in app.routes}
    assert route_option_hooks(routes["/plain"]) == []
    assert route_option_hooks(routes["/flagged"]) == []
    assert "lifecycle" not in routes["/plain"].meta
    assert "lifecycle" not in routes["/flagged"].meta
    assert "lifecycle" in routes["/dated"].meta
    for path in ("/plain", "/flagged"):
        assert routes[path].handle.__qualname__ == "DirectRunner.handle"
    assert routes["/dated"].handle.__qualname__ != "DirectRunner.handle"


def test_the_header_values_are_formatted_once() -> None:
    lifecycle = Lifecycle(DEPRECATED, SUNSET, "/v2", None, "https://example.com/s")
    assert lifecycle_headers(lifecycle, True, "here") == [
        (b"deprecation", DEPRECATION_VALUE.encode()),
        (b"sunset", SUNSET_VALUE.encode()),
        (b"link", b'</v2>; rel="successor-version", <https://example.com/s>; rel="sunset"'),
    ]


# -- refusals -----------------------------------------------------------------------


def handler() -> dict[str, str]:
    return {}


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        (
            {"deprecated": datetime(2026, 1, 1)},
            ValueError,
            r"route GET '/v1/x': deprecated=datetime.datetime\(2026, 1, 1, 0, 0\) is a naive "
            r"datetime; give its time zone, e.g. deprecated=datetime\(2026, 1, 31, tzinfo=UTC\)",
        ),
        (
            {"sunset": datetime(2027, 1, 1)},
            ValueError,
            r"route GET '/v1/x': sunset=.* is a naive datetime; give its time zone",
        ),
        (
            {"deprecated": "2026-01-01"},
            TypeError,
            r"route GET '/v1/x': deprecated= takes a timezone-aware datetime or a date, "
            r"got '2026-01-01'",
        ),
        (
            {"sunset": 1767225600},
            TypeError,
            r"sunset= takes a timezone-aware datetime or a date, got 1767225600",
        ),
        (
            {"deprecated": DEPRECATED, "successor": "/v2 items"},
            ValueError,
            r"route GET '/v1/x': successor='/v2 items' is not a URI reference; give an "
            r"absolute URL or a path",
        ),
        (
            {"deprecated": DEPRECATED, "deprecation_link": "https://x/\r\nSet-Cookie: a=b"},
            ValueError,
            r"deprecation_link=.* is not a URI reference",
        ),
        (
            {"deprecated": DEPRECATED, "sunset_link": '/a>; rel="x'},
            ValueError,
            r"sunset_link=.* is not a URI reference",
        ),
        ({"deprecated": DEPRECATED, "successor": ""}, ValueError, "is not a URI reference"),
    ],
)
def test_bad_values_fail_at_the_declaration(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    router = Router(prefix="/v1")
    with pytest.raises(error, match=message):
        router.add_api_route("/x", handler, **options)


def test_bad_router_and_include_values_name_them() -> None:
    with pytest.raises(ValueError, match=r"Router\(prefix='/v1'\): sunset=.* naive"):
        Router(prefix="/v1", sunset=datetime(2027, 1, 1))
    v1 = Router(prefix="/v1")
    with pytest.raises(
        ValueError,
        match=r"include_router\(Router\(prefix='/v1'\), prefix='/api'\): deprecated=.* naive",
    ):
        App().include_router(v1, prefix="/api", deprecated=datetime(2026, 1, 1))


def test_inconsistent_values_fail_at_startup_naming_the_route() -> None:
    app = App()
    app.add_api_route("/early", handler, deprecated=SUNSET, sunset=DEPRECATED)
    with pytest.raises(
        ValueError,
        match=r"route GET '/early' \(handler handler\): sunset=2026-01-01T00:00:00\+00:00 "
        r"comes before deprecated=2027-07-01T00:00:00\+00:00; .* move the sunset later",
    ):
        app.build()

    app = App()
    app.add_api_route("/lonely", handler, successor="/v2/lonely")
    with pytest.raises(
        ValueError,
        match=r"route GET '/lonely' \(handler handler\): successor given but the route is "
        r"neither deprecated nor sunset; add deprecated=<datetime> \(or True\)",
    ):
        app.build()


def test_links_waiting_for_an_including_router_are_fine() -> None:
    """A router may name its successor before it is included deprecated: the check
    waits for the app's build, when every value is known."""
    v1 = Router(prefix="/v1", successor="/v2")
    v1.add_api_route("/x", handler)
    app = App()
    app.include_router(v1, deprecated=True)
    with TestClient(app) as client:
        assert lifecycle_of(client.get("/v1/x")) == {"link": '</v2>; rel="successor-version"'}


def test_json_response_subclasses_are_covered_too() -> None:
    app = App()

    @app.get("/j", deprecated=DEPRECATED)
    async def j() -> Response:
        return JSONResponse({"a": 1}, status_code=202)

    with TestClient(app) as client:
        response = client.get("/j")
    assert response.status_code == 202
    assert lifecycle_of(response) == {"deprecation": DEPRECATION_VALUE}
