"""Issue 12, items 9, 10, 11, 15 and 19: typed-handler defects found by a new user.

9: an HTTPException raised in a yield dependency's ``except`` block is the answer.
10: a route answers its response class's own default status (307 for a redirect).
11: what pydantic serialises in JSON mode serialises, with pydantic's output.
15: reassigning ``app.dependency_overrides`` takes effect on the next request.
19: response-validation and startup errors name the route.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import ipaddress
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import pydantic_core
import pytest
from pydantic import BaseModel, ConfigDict

from qake_core import (
    App,
    Depends,
    HandlerSignatureError,
    HTMLResponse,
    HTTPException,
    JSONResponse,
    RedirectResponse,
    Request,
    Response,
    ResponseValidationError,
)
from qake_testing import TestClient

# -- 9: an HTTPException raised while a yield dependency handles an error -------------------


class Boom(Exception):
    pass


def test_async_yield_dependency_turns_an_error_into_an_http_exception() -> None:
    async def session() -> AsyncIterator[str]:
        try:
            yield "s"
        except Boom as exc:
            raise HTTPException(400, f"rolled back: {exc}") from exc

    app = App()

    @app.get("/")
    async def handler(s: str = Depends(session)) -> str:
        raise Boom("no stock")

    r = TestClient(app).get("/")
    assert r.status_code == 400
    assert r.json()["detail"] == "rolled back: no stock"


def test_sync_yield_dependency_turns_an_error_into_an_http_exception() -> None:
    def session() -> Iterator[str]:
        try:
            yield "s"
        except Boom:
            raise HTTPException(400, "bad input") from None

    app = App()

    @app.get("/")
    def handler(s: str = Depends(session)) -> str:  # a sync handler too
        raise Boom

    r = TestClient(app).get("/")
    assert r.status_code == 400
    assert r.json()["detail"] == "bad input"


def test_nested_yield_dependencies_see_the_replacement_newest_first() -> None:
    seen: list[str] = []

    async def outer() -> AsyncIterator[str]:
        try:
            yield "outer"
        except HTTPException as exc:
            seen.append(f"outer saw {exc.status_code}")
            raise
        finally:
            seen.append("outer closed")

    def inner(o: str = Depends(outer)) -> Iterator[str]:
        try:
            yield o + "+inner"
        except Boom:
            seen.append("inner converts")
            raise HTTPException(409, "conflict") from None

    app = App()

    @app.get("/")
    async def handler(i: str = Depends(inner)) -> str:
        raise Boom

    r = TestClient(app).get("/")
    assert r.status_code == 409
    assert seen == ["inner converts", "outer saw 409", "outer closed"]


def test_a_dependency_error_is_thrown_into_the_earlier_yield_dependencies() -> None:
    async def tx() -> AsyncIterator[None]:
        try:
            yield
        except HTTPException as exc:
            raise HTTPException(403, f"tx aborted after {exc.status_code}") from exc

    async def auth() -> None:
        raise HTTPException(401)

    app = App()

    @app.get("/", dependencies=[Depends(tx), Depends(auth)])
    async def handler() -> str:
        return "unreachable"

    r = TestClient(app).get("/")
    assert r.status_code == 403
    assert r.json()["detail"] == "tx aborted after 401"


def test_the_replacement_reaches_the_apps_exception_handlers() -> None:
    class Conflict(Exception):
        pass

    async def dep() -> AsyncIterator[None]:
        try:
            yield
        except Boom as exc:
            raise Conflict from exc

    app = App()
    app.add_exception_handler(Conflict, lambda request, exc: Response(b"conflict", 409))

    @app.get("/")
    async def handler(d: None = Depends(dep)) -> str:
        raise Boom

    r = TestClient(app).get("/")
    assert (r.status_code, r.text) == (409, "conflict")


def test_a_dependency_that_reraises_or_swallows_leaves_the_original_error() -> None:
    async def reraises() -> AsyncIterator[None]:
        try:
            yield
        except Boom:
            raise

    async def swallows() -> AsyncIterator[None]:
        try:
            yield
        except Boom:
            pass

    app = App()

    @app.get("/reraise")
    async def a(d: None = Depends(reraises)) -> str:
        raise Boom

    @app.get("/swallow")
    async def b(d: None = Depends(swallows)) -> str:
        raise HTTPException(418)

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/reraise").status_code == 500
    assert client.get("/swallow").status_code == 418


def test_an_error_in_a_cleanup_after_the_response_is_logged_not_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def dep() -> AsyncIterator[None]:
        yield
        raise HTTPException(400)  # too late: the response was sent

    app = App()

    @app.get("/")
    async def handler(d: None = Depends(dep)) -> str:
        return "ok"

    with caplog.at_level(logging.ERROR, logger="qake.error"):
        r = TestClient(app).get("/")
    assert (r.status_code, r.json()) == (200, "ok")
    assert any("clean-up of dependency" in rec.getMessage() for rec in caplog.records)


# -- 10: the response class's own default status ---------------------------------------------


class SeeOther(RedirectResponse):
    def __init__(self, url: str, status_code: int = 303) -> None:
        super().__init__(url, status_code)


def test_response_class_default_status() -> None:
    app = App()

    @app.get("/redirect", response_class=RedirectResponse)
    async def redirect() -> str:
        return "/target"

    @app.get("/found", response_class=RedirectResponse, status_code=302)
    async def found() -> str:
        return "/target"

    @app.get("/see-other", response_class=SeeOther)
    async def see_other() -> str:
        return "/target"

    @app.get("/html", response_class=HTMLResponse)
    async def html() -> str:
        return "<p>hi</p>"

    client = TestClient(app, follow_redirects=False)
    r = client.get("/redirect")
    assert (r.status_code, r.headers["location"]) == (307, "/target")
    assert client.get("/found").status_code == 302
    assert client.get("/see-other").status_code == 303
    assert client.get("/html").status_code == 200


def test_default_response_class_of_the_app_gives_its_status() -> None:
    app = App(default_response_class=RedirectResponse)

    @app.get("/")
    async def go() -> str:
        return "/elsewhere"

    r = TestClient(app, follow_redirects=False).get("/")
    assert (r.status_code, r.headers["location"]) == (307, "/elsewhere")


# -- 11: JSON as pydantic writes it ----------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Slot:
    start: dt.datetime
    length: dt.timedelta


class Point(NamedTuple):
    x: int
    y: int


class Item(BaseModel):
    name: str
    ttl: dt.timedelta


def _varied() -> dict[str, Any]:
    utc = dt.UTC
    return {
        "timedelta": dt.timedelta(hours=1, minutes=30, microseconds=5),
        "negative": dt.timedelta(days=-1, seconds=5),
        "decimal": Decimal("12.50"),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "date": dt.date(2024, 2, 29),
        "time": dt.time(12, 30, 1, 5),
        "naive": dt.datetime(2024, 1, 2, 3, 4, 5, 600),
        "utc": dt.datetime(2024, 1, 2, tzinfo=utc),
        "offset": dt.datetime(2024, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "set": {3},
        "frozenset": frozenset({"a"}),
        "tuple": (1, "a"),
        "namedtuple": Point(1, 2),
        "dataclass": Slot(dt.datetime(2024, 1, 1, tzinfo=utc), dt.timedelta(seconds=90)),
        "enum": Colour.RED,
        "path": Path("/srv/data.csv"),
        "ip": ipaddress.ip_address("192.0.2.1"),
        "bytes": b"raw",
        "model": Item(name="n", ttl=dt.timedelta(minutes=1)),
        "nan": float("nan"),
        "nested": [{"in": [Decimal("1.5"), {dt.timedelta(0)}]}],
        "int_keys": {1: "one", 2.5: "x"},
    }


def _pydantic_json(value: Any) -> bytes:
    # pydantic's JSON mode, a bare timedelta as seconds (issue 12: "timedelta → seconds
    # as a float", what FastAPI's jsonable_encoder writes); a model keeps its own config.
    return pydantic_core.to_json(value, timedelta_mode="float", inf_nan_mode="null")


def test_returned_dict_with_standard_types_serialises_like_pydantic() -> None:
    app = App()

    @app.get("/async")
    async def async_() -> Any:
        return _varied()

    @app.get("/sync")
    def sync() -> Any:
        return _varied()

    @app.get("/bare")
    async def bare():  # type: ignore[no-untyped-def]  # no annotation at all
        return _varied()

    client = TestClient(app)
    expected = _pydantic_json(_varied())
    for path in ("/async", "/sync", "/bare"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.content == expected, path
    body = client.get("/bare").json()
    assert body["timedelta"] == 5400.000005  # seconds as a float
    assert body["negative"] == -86395.0
    assert body["model"] == {"name": "n", "ttl": "PT1M"}  # the model's own ser_json_timedelta
    assert body["decimal"] == "12.50"
    assert body["utc"] == "2024-01-02T00:00:00Z"
    assert body["set"] == [3]


@pytest.mark.parametrize(
    "value",
    [
        2**70,  # beyond orjson's 64-bit integers
        {"big": [2**64]},
        {(1, 2): "tuple key"},
        Point(3, 4),
        {"td": dt.timedelta(weeks=3)},
    ],
)
def test_json_response_falls_back_to_pydantic_where_orjson_refuses(value: Any) -> None:
    assert JSONResponse(value).body == _pydantic_json(value)


class SecondsItem(Item):
    model_config = ConfigDict(ser_json_timedelta="float")


def test_declared_model_and_plain_dict_agree() -> None:
    app = App()
    item = {"name": "n", "ttl": dt.timedelta(hours=2)}

    @app.get("/model")
    async def model() -> SecondsItem:
        return SecondsItem.model_validate(item)

    @app.get("/dict")
    async def plain() -> Any:
        return item

    client = TestClient(app)
    assert client.get("/model").content == client.get("/dict").content


def test_unserialisable_value_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="JSON"):
        JSONResponse({"x": object()})


# -- 15: reassigned dependency overrides -----------------------------------------------------


async def real_user() -> str:
    return "real"


def test_reassigned_and_cleared_overrides_take_effect() -> None:
    app = App()

    @app.get("/")
    async def who(user: str = Depends(real_user)) -> str:
        return user

    client = TestClient(app)
    assert client.get("/").json() == "real"
    app.dependency_overrides[real_user] = lambda: "fake"
    assert client.get("/").json() == "fake"
    app.dependency_overrides = {}
    assert client.get("/").json() == "real"
    app.dependency_overrides = {real_user: lambda: "other"}
    assert client.get("/").json() == "other"
    app.dependency_overrides.clear()
    assert client.get("/").json() == "real"


def test_overrides_set_by_reassignment_before_the_first_request() -> None:
    app = App()
    app.dependency_overrides = {real_user: lambda: "early"}

    @app.get("/")
    async def who(user: str = Depends(real_user)) -> str:
        return user

    client = TestClient(app)
    assert client.get("/").json() == "early"
    app.dependency_overrides = {}
    assert client.get("/").json() == "real"


# -- 19: errors name the route -----------------------------------------------------------------


class Out(BaseModel):
    id: int


def test_response_validation_error_names_the_route() -> None:
    async def dep() -> None:
        return None

    app = App()

    @app.get("/items/{item_id}")
    async def direct(item_id: int) -> Out:  # the direct runner's dumper
        return {"nope": item_id}  # type: ignore[return-value]

    @app.post("/items/{item_id}/tags", dependencies=[Depends(dep)])
    async def general(item_id: int, request: Request) -> Out:  # the general serializer
        return {"nope": item_id}  # type: ignore[return-value]

    @app.put("/html/{item_id}", response_class=JSONResponse)
    async def with_class(item_id: int) -> Out:  # model + response_class
        return {"nope": item_id}  # type: ignore[return-value]

    client = TestClient(app)
    cases = [
        (client.get, "/items/1", "route GET '/items/{item_id}' (handler "),
        (client.post, "/items/1/tags", "route POST '/items/{item_id}/tags' (handler "),
        (client.put, "/html/1", "route PUT '/html/{item_id}' (handler "),
    ]
    for call, url, label in cases:
        with pytest.raises(ResponseValidationError) as info:
            call(url)
        assert str(info.value).startswith(label), str(info.value)
        assert info.value.route.startswith(label)
        assert "route:" not in str(info.value)


def test_app_scoped_dependency_error_names_the_route() -> None:
    async def pool(request: Request) -> str:
        return "pool"

    app = App()

    @app.delete("/pools/{name}")
    async def drop(name: str, p: str = Depends(pool, scope="app")) -> str:
        return p

    with pytest.raises(HandlerSignatureError, match=r"route DELETE '/pools/\{name\}'"):
        app.build()


def test_bad_cache_option_names_the_route() -> None:
    app = App()

    @app.get("/cached", cache="forever")
    async def cached() -> str:
        return "x"

    with pytest.raises(TypeError, match=r"route GET '/cached' .*cache= expects seconds"):
        app.build()
