"""Issue 12, items 12, 13, 14 and 16: typed parameters and route options (qake-core).

* 12: a route can opt out of the app's dependencies (the framework's own routes do).
* 13: header models convert underscores like single headers; ``extra="forbid"`` on a
  query/header/cookie model refuses unknown values; bare ``list`` (and friends) read
  repeated query keys.
* 14: a POST without a body to a form or file route is an empty form (200 or 422).
* 16: every unknown option of a route, router, ``include_router`` or app fails when it
  is declared, naming it, the place and the alternative; the response filters FastAPI
  users expect (``response_model_include/_exclude/_exclude_defaults``) work.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from qake_core import (
    App,
    Cookie,
    Depends,
    File,
    Form,
    HandlerSignatureError,
    Header,
    HTMLResponse,
    HTTPException,
    JSONResponse,
    PlainTextResponse,
    Query,
    Router,
    UploadFile,
)
from qake_testing import TestClient


def _locs(response: Any) -> list[tuple[list[Any], str]]:
    return [(e["loc"], e["type"]) for e in response.json()["errors"]]


# -- item 12: the app's dependencies and routes that opt out -------------------------------


async def require_token(x_token: Annotated[str, Header()]) -> None:
    if x_token != "secret":
        raise HTTPException(401)


def test_a_route_can_opt_out_of_the_app_dependencies() -> None:
    app = App(dependencies=[Depends(require_token)])

    @app.get("/guarded")
    async def guarded() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/own", use_app_dependencies=False)
    async def own() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/own-guarded", use_app_dependencies=False, dependencies=[Depends(require_token)])
    async def own_guarded() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(app) as client:
        assert client.get("/guarded").status_code == 422  # the header is missing
        assert client.get("/guarded", headers={"x-token": "secret"}).status_code == 200
        assert client.get("/own").json() == {"ok": True}
        assert client.get("/own-guarded").status_code == 422  # its own dependencies still run
        assert client.get("/own-guarded", headers={"x-token": "secret"}).status_code == 200
    spec = next(r.spec for r in app.routes if r.path == "/own")
    assert spec.dependencies == ()
    assert spec.params == ()


# -- item 13: header models, extra="forbid", sequences -------------------------------------


class CommonHeaders(BaseModel):
    x_token: str
    user_agent: str | None = None
    x_tags: list[str] = []


class AliasedHeaders(BaseModel):
    token: str = Field(alias="X-Token")


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = 10
    tags: list[str] = []


class Session(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session_id: str


class StrictHeaders(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x_token: str


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow")
    limit: int = 10


def header_app() -> App:
    app = App()

    @app.get("/headers")
    async def headers(h: Annotated[CommonHeaders, Header()]) -> dict[str, Any]:
        return h.model_dump()

    @app.get("/raw")
    async def raw(h: Annotated[CommonHeaders, Header(convert_underscores=False)]) -> Any:
        return h.model_dump()

    @app.get("/aliased")
    async def aliased(h: Annotated[AliasedHeaders, Header()]) -> dict[str, str]:
        return {"token": h.token}

    return app


def test_a_header_model_reads_hyphenated_names_like_single_headers() -> None:
    with TestClient(header_app()) as client:
        r = client.get(
            "/headers",
            headers=[("X-Token", "t"), ("User-Agent", "ua"), ("x-tags", "a"), ("x-tags", "b")],
        )
        assert r.status_code == 200, r.text
        assert r.json() == {"x_token": "t", "user_agent": "ua", "x_tags": ["a", "b"]}
        r = client.get("/headers")
        assert r.status_code == 422
        assert _locs(r) == [(["header", "x_token"], "missing")]


def test_a_header_model_respects_convert_underscores_false_and_aliases() -> None:
    with TestClient(header_app()) as client:
        assert client.get("/raw", headers={"x-token": "t"}).status_code == 422
        r = client.get("/raw", headers={"x_token": "t"})
        assert r.status_code == 200, r.text
        assert r.json()["x_token"] == "t"
        r = client.get("/aliased", headers={"x-token": "t"})  # case-insensitive, as given
        assert r.json() == {"token": "t"}


def forbid_app() -> App:
    app = App()

    @app.get("/query")
    async def query(f: Annotated[Filters, Query()]) -> dict[str, Any]:
        return f.model_dump()

    @app.get("/cookie")
    async def cookie(s: Annotated[Session, Cookie()]) -> dict[str, Any]:
        return s.model_dump()

    @app.get("/header")
    async def header(h: Annotated[StrictHeaders, Header()]) -> dict[str, Any]:
        return h.model_dump()

    @app.get("/loose")
    async def loose(f: Annotated[Loose, Query()]) -> dict[str, Any]:
        return f.model_dump()

    return app


def test_extra_forbid_on_a_query_model_refuses_unknown_parameters() -> None:
    with TestClient(forbid_app()) as client:
        r = client.get("/query", params=[("limit", "5"), ("tags", "a"), ("tags", "b")])
        assert r.json() == {"limit": 5, "tags": ["a", "b"]}
        r = client.get("/query", params={"limit": "5", "tool": "x"})
        assert r.status_code == 422
        assert _locs(r) == [(["query", "tool"], "extra_forbidden")]


def test_extra_forbid_on_a_cookie_model_refuses_unknown_cookies() -> None:
    with TestClient(forbid_app()) as client:
        r = client.get("/cookie", headers={"cookie": "session_id=abc"})
        assert r.json() == {"session_id": "abc"}
        r = client.get("/cookie", headers={"cookie": "session_id=abc; tracker=1"})
        assert r.status_code == 422
        assert _locs(r) == [(["cookie", "tracker"], "extra_forbidden")]


def test_extra_forbid_on_a_header_model_refuses_unknown_headers() -> None:
    with TestClient(forbid_app()) as client:
        r = client.get("/header", headers={"x-token": "t", "x-other": "1"})
        assert r.status_code == 422
        assert (["header", "x-other"], "extra_forbidden") in _locs(r)
        assert (["header", "x-token"], "extra_forbidden") not in _locs(r)
        assert all(loc[0] == "header" and kind == "extra_forbidden" for loc, kind in _locs(r))


def test_extra_allow_on_a_query_model_keeps_unknown_parameters() -> None:
    with TestClient(forbid_app()) as client:
        r = client.get("/loose", params=[("limit", "5"), ("x", "1"), ("y", "2"), ("y", "3")])
        assert r.json() == {"limit": 5, "x": "1", "y": ["2", "3"]}


SEQUENCE_TYPES: list[Any] = [
    list,
    list[str],
    typing.List,  # noqa: UP006 - the bare typing alias is what is tested
    typing.List[str],  # noqa: UP006
    tuple,
    tuple[str, ...],
    set,
    set[str],
    Sequence[str],
]


@pytest.mark.parametrize("tp", SEQUENCE_TYPES, ids=repr)
def test_sequence_query_parameters_read_repeated_keys(tp: Any) -> None:
    app = App()

    async def handler(q: Any = ()) -> dict[str, Any]:
        return {"q": sorted(q)}

    # NOTE: set by hand: this module's string annotations cannot name the local ``tp``.
    handler.__annotations__ = {"q": Annotated[tp, Query()], "return": dict[str, Any]}
    app.get("/items")(handler)
    with TestClient(app) as client:
        assert client.get("/items", params=[("q", "b"), ("q", "a")]).json() == {"q": ["a", "b"]}
        assert client.get("/items").json() == {"q": []}
        assert app.routes[0].spec.params[0].is_sequence


def test_a_bare_list_default_query_parameter() -> None:
    app = App()

    @app.get("/items")
    async def items(q: list = Query([])) -> dict[str, Any]:  # type: ignore[type-arg]
        return {"q": q}

    with TestClient(app) as client:
        assert client.get("/items?q=1&q=2").json() == {"q": ["1", "2"]}


# -- item 14: a form route without a body --------------------------------------------------


def form_app() -> App:
    app = App()

    @app.post("/optional")
    async def optional(
        name: Annotated[str | None, Form()] = None, size: Annotated[int, Form()] = 3
    ) -> dict[str, Any]:
        return {"name": name, "size": size}

    @app.post("/required")
    async def required(
        name: Annotated[str, Form()], size: Annotated[int, Form()]
    ) -> dict[str, Any]:
        return {"name": name, "size": size}

    @app.post("/upload")
    async def upload(
        file: Annotated[UploadFile, File()], note: Annotated[str, Form()] = ""
    ) -> dict[str, Any]:
        return {"name": file.filename}

    @app.post("/maybe-upload")
    async def maybe_upload(file: Annotated[UploadFile | None, File()] = None) -> dict[str, Any]:
        return {"file": file is not None}

    return app


def test_a_post_without_a_body_to_an_optional_form_is_ok() -> None:
    with TestClient(form_app()) as client:
        r = client.post("/optional")
        assert r.status_code == 200, r.text
        assert r.json() == {"name": None, "size": 3}
        r = client.post("/maybe-upload")
        assert r.status_code == 200, r.text
        assert r.json() == {"file": False}


def test_a_post_without_a_body_lists_the_missing_form_fields() -> None:
    with TestClient(form_app()) as client:
        r = client.post("/required")
        assert r.status_code == 422, r.text
        assert _locs(r) == [(["body", "name"], "missing"), (["body", "size"], "missing")]
        r = client.post("/upload")
        assert r.status_code == 422, r.text
        assert _locs(r) == [(["body", "file"], "missing")]
        # An empty URL-encoded body is the same empty form.
        r = client.post("/required", headers={"content-type": "application/x-www-form-urlencoded"})
        assert r.status_code == 422


def test_a_body_that_is_not_a_form_is_still_415() -> None:
    with TestClient(form_app()) as client:
        r = client.post(
            "/optional", content=b'{"name": "x"}', headers={"content-type": "application/json"}
        )
        assert r.status_code == 415
        assert client.post("/optional", content=b"name=x").status_code == 415  # no type
        assert client.post("/optional", data={"name": "x"}).json() == {"name": "x", "size": 3}


# -- item 16: unknown options fail at declaration ------------------------------------------


async def endpoint() -> dict[str, bool]:
    return {"ok": True}


async def socket_endpoint(websocket: Any) -> None:
    await websocket.accept()


DECLARATIONS: list[tuple[str, Callable[[Router], Any], str]] = [
    ("get", lambda r: r.get("/x", bogus=1)(endpoint), "route GET '/api/x'"),
    ("post", lambda r: r.post("/x", bogus=1)(endpoint), "route POST '/api/x'"),
    ("put", lambda r: r.put("/x", bogus=1)(endpoint), "route PUT '/api/x'"),
    ("patch", lambda r: r.patch("/x", bogus=1)(endpoint), "route PATCH '/api/x'"),
    ("delete", lambda r: r.delete("/x", bogus=1)(endpoint), "route DELETE '/api/x'"),
    ("head", lambda r: r.head("/x", bogus=1)(endpoint), "route HEAD '/api/x'"),
    ("options", lambda r: r.options("/x", bogus=1)(endpoint), "route OPTIONS '/api/x'"),
    (
        "api_route",
        lambda r: r.api_route("/x", methods=["GET", "POST"], bogus=1)(endpoint),
        "route GET POST '/api/x'",
    ),
    (
        "add_api_route",
        lambda r: r.add_api_route("/x", endpoint, methods=["PUT"], bogus=1),
        "route PUT '/api/x'",
    ),
    ("websocket", lambda r: r.websocket("/ws", bogus=1)(endpoint), "websocket route '/api/ws'"),
    (
        "add_websocket_route",
        lambda r: r.add_websocket_route("/ws", endpoint, bogus=1),
        "websocket route '/api/ws'",
    ),
]


@pytest.mark.parametrize(
    ("how", "declare", "where"), DECLARATIONS, ids=[d[0] for d in DECLARATIONS]
)
def test_an_unknown_route_option_names_itself_and_the_route(
    how: str, declare: Callable[[Router], Any], where: str
) -> None:
    router = Router(prefix="/api")
    with pytest.raises(TypeError) as info:
        declare(router)
    message = str(info.value)
    assert message.startswith(where + ": unknown"), message
    assert "option 'bogus'" in message
    assert "the options are:" in message
    assert "dependencies" in message
    assert router.routes == []  # nothing was registered


def test_a_typo_gets_the_closest_option() -> None:
    app = App()
    with pytest.raises(
        TypeError, match=r"'response_model_exlude'; did you mean 'response_model_exclude'"
    ):

        @app.get("/users", response_model_exlude={"password"})
        async def users() -> dict[str, str]:
            return {}

    with pytest.raises(TypeError, match=r"did you mean 'status_code'"):
        app.post("/users", status=201)(endpoint)
    with pytest.raises(TypeError, match=r"did you mean 'max_message_size'"):
        app.websocket("/ws", max_size=10)(endpoint)


@pytest.mark.parametrize(
    ("option", "advice"),
    [
        ("response_description", "responses={<status>: {'description'"),
        ("route_class_override", "hook middleware"),
    ],
)
def test_fastapi_route_options_qakeapi_lacks_say_what_to_do(option: str, advice: str) -> None:
    app = App()
    with pytest.raises(TypeError) as info:
        app.get("/items/{item_id}", **{option: None})(endpoint)
    message = str(info.value)
    assert message.startswith(f"route GET '/items/{{item_id}}': option {option!r} is not supported")
    assert advice in message


def test_router_and_include_router_and_app_refuse_unknown_options() -> None:
    with pytest.raises(
        TypeError,
        match=r"^Router\(prefix='/api'\): unknown router option 'tagz'; did you mean 'tags'",
    ):
        Router(prefix="/api", tagz=["a"])
    with pytest.raises(
        TypeError, match=r"^Router\(prefix=''\): option 'route_class' is not supported"
    ):
        Router(route_class=object)
    with pytest.raises(TypeError, match=r"option 'on_startup' is not supported.*App\(on_startup="):
        Router(on_startup=[])
    app = App()
    users = Router(prefix="/users")
    users.get("")(endpoint)
    with pytest.raises(
        TypeError,
        match=r"^include_router\(Router\(prefix='/users'\), prefix='/api'\): unknown "
        r"include_router option 'prefx'; did you mean 'prefix'",
    ):
        app.include_router(users, prefix="/api", prefx="/v1")
    with pytest.raises(TypeError, match=r"^include_router.*'route_class' is not supported"):
        app.include_router(users, route_class=object)
    assert [r.path for r in app.routes] == []
    with pytest.raises(
        TypeError, match=r"^App\(\.\.\.\): unknown app option 'debgu'; did you mean 'debug'"
    ):
        App(debgu=True)
    with pytest.raises(
        TypeError, match=r"^App\(\.\.\.\): option 'root_path' is not supported.*--root-path"
    ):
        App(root_path="/api")
    with pytest.raises(
        TypeError, match=r"^App\(\.\.\.\): option 'title' is not supported.*QakeAPI\(title="
    ):
        App(title="Shop")


def test_options_that_work_today_still_work() -> None:
    app = App()
    route = app.add_api_route("/csv", endpoint, produces=["text/csv"], cache=60)
    assert route.meta == {"produces": ["text/csv"], "cache": 60}
    ws = app.add_websocket_route("/ws", socket_endpoint, max_message_size=None)
    assert ws.meta == {"max_message_size": None}
    assert app.add_websocket_route("/ws2", socket_endpoint).meta == {}


# -- item 16: the response filters FastAPI users expect ------------------------------------


class User(BaseModel):
    name: str
    password: str
    email: str | None = None
    role: str = "user"


def test_response_model_include_exclude_and_exclude_defaults() -> None:
    app = App()
    data = {"name": "ann", "password": "hunter2", "email": None, "role": "user"}

    @app.get("/exclude", response_model=User, response_model_exclude={"password"})
    async def exclude() -> Any:
        return data

    @app.get("/exclude-list", response_model_exclude=["password", "role"])
    async def exclude_list() -> User:
        return User(**data)  # the exact model: serialised directly, still filtered

    @app.get("/include", response_model=User, response_model_include={"name"})
    async def include() -> Any:
        return data

    @app.get("/defaults", response_model=User, response_model_exclude_defaults=True)
    async def defaults() -> Any:
        return data

    @app.get(
        "/class",
        response_model=User,
        response_model_exclude={"password"},
        response_class=JSONResponse,
    )
    async def with_class() -> Any:
        return data

    with TestClient(app) as client:
        assert client.get("/exclude").json() == {"name": "ann", "email": None, "role": "user"}
        assert client.get("/exclude-list").json() == {"name": "ann", "email": None}
        assert client.get("/include").json() == {"name": "ann"}
        assert client.get("/defaults").json() == {"name": "ann", "password": "hunter2"}
        assert client.get("/class").json() == {"name": "ann", "email": None, "role": "user"}


@pytest.mark.parametrize(
    "option",
    [
        "response_model_exclude",
        "response_model_include",
        "response_model_exclude_none",
        "response_model_exclude_unset",
        "response_model_exclude_defaults",
    ],
)
def test_a_response_filter_without_a_response_model_fails_at_startup(option: str) -> None:
    app = App()
    value: Any = {"password"} if option.endswith(("exclude", "include")) else True
    with pytest.raises(
        HandlerSignatureError, match=rf"route GET '/users'.*{option}= needs a response model"
    ):

        @app.get("/users", **{option: value})
        async def users() -> Any:
            return {"name": "ann", "password": "hunter2"}


def test_include_router_default_response_class() -> None:
    app = App(default_response_class=PlainTextResponse)
    inner = Router()

    @inner.get("/own", response_class=HTMLResponse)
    async def own() -> str:
        return "<b>own</b>"

    @inner.get("/given")
    async def given() -> str:
        return "<b>given</b>"

    other = Router()

    @other.get("/app")
    async def app_default() -> str:
        return "app"

    app.include_router(inner, default_response_class=HTMLResponse)
    app.include_router(other)
    with TestClient(app) as client:
        assert client.get("/own").headers["content-type"].startswith("text/html")
        assert client.get("/given").headers["content-type"].startswith("text/html")
        assert client.get("/app").headers["content-type"].startswith("text/plain")
