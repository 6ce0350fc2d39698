"""Response models, startup signature errors and the introspection specs."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

import qake_core
from qake_core import (
    App,
    Body,
    Depends,
    HandlerSignatureError,
    JSONResponse,
    ParamSpec,
    Path,
    PlainTextResponse,
    Query,
    ResponseValidationError,
    RouteSpec,
)
from qake_testing import TestClient


class Out(BaseModel):
    id: int
    name: str | None = None
    secret_alias: str = Field("s", alias="secretAlias")


class Private(BaseModel):
    id: int
    password: str


@dataclasses.dataclass
class Point:
    x: int
    y: int


def test_response_model_filters_and_options() -> None:
    app = App()

    @app.get("/filtered", response_model=Out)
    async def filtered() -> Any:
        return {"id": 1, "password": "hunter2"}

    @app.get("/exclude-none", response_model=Out, response_model_exclude_none=True)
    async def exclude_none() -> Any:
        return Out(id=1)

    @app.get("/unset", response_model_exclude_unset=True)
    async def unset() -> Out:
        return Out(id=1)

    @app.get("/by-name", response_model_by_alias=False)
    async def by_name() -> Out:
        return Out(id=2)

    @app.get("/from-attrs")
    async def from_attrs() -> Out:
        return Private(id=3, password="x")  # type: ignore[return-value]

    client = TestClient(app)
    assert client.get("/filtered").json() == {"id": 1, "name": None, "secretAlias": "s"}
    assert client.get("/exclude-none").json() == {"id": 1, "secretAlias": "s"}
    assert client.get("/unset").json() == {"id": 1}
    assert client.get("/by-name").json() == {"id": 2, "name": None, "secret_alias": "s"}
    assert client.get("/from-attrs").json() == {"id": 3, "name": None, "secretAlias": "s"}


def test_plain_returns_and_status_codes() -> None:
    app = App()

    @app.get("/dict")
    async def d():  # type: ignore[no-untyped-def]
        return {"a": [1, 2]}

    @app.get("/dc")
    async def dc() -> Point:
        return Point(1, 2)

    @app.get("/list")
    async def lst() -> list[Point]:
        return [Point(1, 2)]

    @app.delete("/none", status_code=204)
    async def none() -> None:
        return None

    @app.get("/resp")
    async def resp() -> JSONResponse:
        return JSONResponse({"raw": True}, status_code=203)

    @app.post("/created", status_code=201, responses={409: {"description": "conflict"}})
    async def created() -> Out:
        return Out(id=1, name="n")

    client = TestClient(app)
    assert client.get("/dict").json() == {"a": [1, 2]}
    assert client.get("/dc").json() == {"x": 1, "y": 2}
    assert client.get("/list").json() == [{"x": 1, "y": 2}]
    r = client.delete("/none")
    assert (r.status_code, r.content) == (204, b"")
    r = client.get("/resp")
    assert (r.status_code, r.json()) == (203, {"raw": True})
    r = client.post("/created")
    assert r.status_code == 201
    assert r.headers["content-type"] == "application/json"
    spec = next(x for x in app.routes if x.path == "/created").spec
    assert spec.responses == {409: {"description": "conflict"}}


def test_invalid_response_is_a_server_error() -> None:
    app = App()

    @app.get("/bad")
    async def bad() -> Out:
        return {"name": "no id"}  # type: ignore[return-value]

    with pytest.raises(ResponseValidationError):
        TestClient(app).get("/bad")
    r = TestClient(app, raise_server_exceptions=False).get("/bad")
    assert r.status_code == 500


class Thing(BaseModel):
    a: int


@pytest.mark.parametrize(
    ("path", "handler", "fragment"),
    [
        ("/x/{a:int}", lambda a: None, None),
        ("/x/{a:int}", "str_for_int", "annotated str"),
        ("/x", "missing_path", "template has no {a}"),
        ("/x", "star_args", "variadic positional"),
        ("/x", "unsupported", "unsupported annotation"),
        ("/x", "two_bodies", "two body parameters"),
        ("/x", "form_and_json", "mix a JSON body and form"),
        ("/x", "dict_query", "cannot come from a string"),
    ],
)
def test_bad_signatures_fail_at_the_decorator(
    path: str, handler: Any, fragment: str | None
) -> None:
    handlers = _bad_handlers()
    app = App()
    func = handlers.get(handler, handler) if isinstance(handler, str) else handler
    if fragment is None:
        app.get(path)(func)
        return
    with pytest.raises(HandlerSignatureError) as info:
        app.get(path)(func)
    assert fragment in str(info.value)
    assert "/x" in str(info.value)


class Opaque:
    pass


def _bad_handlers() -> dict[str, Any]:
    async def str_for_int(a: str) -> None: ...

    async def missing_path(a: int = Path()) -> None: ...

    async def star_args(*args: int) -> None: ...

    async def unsupported(thing: Opaque) -> None: ...

    async def two_bodies(
        a: Annotated[Thing, Body(alias="t")], b: Annotated[Thing, Body(alias="t")]
    ) -> None: ...

    async def form_and_json(a: Thing, b: str = qake_core.Form()) -> None: ...

    async def dict_query(a: dict[str, int] = Query()) -> None: ...

    return {
        f.__name__: f
        for f in (
            str_for_int,
            missing_path,
            star_args,
            unsupported,
            two_bodies,
            form_and_json,
            dict_query,
        )
    }


def test_router_signature_errors_at_decorator_too() -> None:
    router = qake_core.Router()
    with pytest.raises(HandlerSignatureError):

        @router.get("/r")
        async def r(*args: int) -> None: ...


async def auth(x_key: str = qake_core.Header(description="the key")) -> str:
    return x_key


auth.security_scheme = {"type": "apiKey"}  # type: ignore[attr-defined]


def test_route_spec_introspection() -> None:
    app = App()

    @app.post("/items/{item_id:int}", status_code=201, tags=["items"], dependencies=[Depends(auth)])
    async def create(
        item_id: int, item: Thing, q: Annotated[int, Query(ge=1, description="qq")] = 1
    ) -> Thing:
        return item

    route = app.routes[0]
    spec = route.spec
    assert isinstance(spec, RouteSpec)
    assert spec.status_code == 201
    assert spec.response_model is Thing
    assert spec.tags == ("items",)
    by_name = {p.name: p for p in spec.params}
    assert all(isinstance(p, ParamSpec) for p in spec.params)
    assert (by_name["item_id"].location, by_name["item_id"].annotation) == ("path", int)
    assert by_name["q"].field_info.description == "qq"
    assert not by_name["q"].required
    assert by_name["q"].default == 1
    assert (by_name["x_key"].location, by_name["x_key"].alias) == ("header", "x-key")
    assert spec.body is not None
    assert spec.body.annotation is Thing
    assert spec.body.adapter.json_schema()["title"] == "Thing"
    assert spec.dependencies[0].call.security_scheme == {"type": "apiKey"}  # type: ignore[attr-defined]
    client = TestClient(app)
    r = client.post("/items/1", json={"a": 2}, headers={"x-key": "k"})
    assert (r.status_code, r.json()) == (201, {"a": 2})


def test_public_names_exported() -> None:
    for name in [
        "Body",
        "Cookie",
        "Depends",
        "File",
        "Form",
        "Header",
        "Path",
        "Query",
        "UploadFile",
        "RouteSpec",
        "ParamSpec",
        "DependencySpec",
        "BodySpec",
        "ResponseSpec",
    ]:
        assert name in qake_core.__all__
    assert qake_core.__all__ == sorted(
        qake_core.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n)
    )


class Wrapper(BaseModel):
    items: list[Out]


def test_aliases_nested_anywhere_in_the_model_are_honoured() -> None:
    app = App()

    @app.get("/list")
    async def as_list() -> list[Out]:
        return [Out(id=1)]

    @app.get("/dict")
    async def as_dict() -> dict[str, Wrapper]:
        return {"w": Wrapper(items=[Out(id=2)])}

    @app.get("/plain")
    async def plain() -> dict[str, list[int]]:
        return {"n": [1, 2]}

    client = TestClient(app)
    assert client.get("/list").json() == [{"id": 1, "name": None, "secretAlias": "s"}]
    assert client.get("/dict").json() == {
        "w": {"items": [{"id": 2, "name": None, "secretAlias": "s"}]}
    }
    assert client.get("/plain").json() == {"n": [1, 2]}


def test_routes_without_a_model_keep_their_own_status_and_class() -> None:
    # Routes without a response model share one serialiser per (status, response class):
    # each still answers with its own status and class.
    app = App()

    async def value() -> Any:
        return {"a": 1}

    async def text() -> Any:
        return "hi"

    app.get("/created", status_code=201)(value)
    app.get("/default")(value)
    app.get("/text", response_class=PlainTextResponse, status_code=202)(text)
    app.get("/default-again")(value)
    client = TestClient(app)
    created, default, text, again = (
        client.get(path) for path in ("/created", "/default", "/text", "/default-again")
    )
    assert (created.status_code, created.json()) == (201, {"a": 1})
    assert (default.status_code, default.json()) == (200, {"a": 1})
    assert (again.status_code, again.json()) == (200, {"a": 1})
    assert text.status_code == 202
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text == "hi"


class Row:
    """An object with attributes, as an ORM returns (not a dict, not a model)."""

    def __init__(self, id: int, name: str) -> None:
        self.id = id
        self.name = name


def test_objects_with_attributes_validate_wherever_a_model_is_declared() -> None:
    # Plain response types skip from_attributes (pydantic-core parses the keyword on
    # every call); any type with a model in it still reads attributes.
    app = App()

    @app.get("/plain")
    async def plain() -> dict[str, list[int | None]]:
        return {"a": [1, None]}

    @app.get("/plain-bad")
    async def plain_bad() -> dict[str, int]:
        return {"a": "x"}  # type: ignore[dict-item]

    @app.get("/rows")
    async def rows() -> list[Out]:
        return [Row(1, "a"), Row(2, "b")]  # type: ignore[list-item]

    @app.get("/by-key")
    async def by_key() -> dict[str, Out | None]:
        return {"one": Row(1, "a"), "none": None}  # type: ignore[dict-item]

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/plain").json() == {"a": [1, None]}
    assert client.get("/plain-bad").status_code == 500
    assert client.get("/rows").json() == [
        {"id": 1, "name": "a", "secretAlias": "s"},
        {"id": 2, "name": "b", "secretAlias": "s"},
    ]
    assert client.get("/by-key").json() == {
        "one": {"id": 1, "name": "a", "secretAlias": "s"},
        "none": None,
    }
