"""FastAPI's tutorial patterns, each run twice: with qakeapi's defaults (its documented
answers) and with ``compat="fastapi"`` (FastAPI's exact bodies, as FastAPI 0.165 sends
them for the same app: checked side by side when these tests were written).

The apps are written as FastAPI's tutorial writes them, with qakeapi's imports.
"""

from collections.abc import AsyncIterable, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from qakeapi import (
    APIRouter,
    BackgroundTasks,
    Body,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    HTTPException,
    QakeAPI,
    Request,
    RequestValidationError,
    UploadFile,
    status,
)
from qakeapi.encoders import jsonable_encoder
from qakeapi.exception_handlers import http_exception_handler
from qakeapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from qakeapi.sse import EventSourceResponse, ServerSentEvent
from qakeapi.testing import TestClient

PROBLEM = "application/problem+json"

MODES = ["qakeapi", "fastapi"]


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_app(mode: str, **options: Any) -> QakeAPI:
    return QakeAPI(compat="fastapi" if mode == "fastapi" else None, **options)


def problem(status_code: int, detail: str) -> dict[str, Any]:
    from http import HTTPStatus

    return {
        "type": "about:blank",
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
    }


def invalid(*errors: dict[str, Any]) -> dict[str, Any]:
    """qakeapi's 422: problem+json listing loc/msg/type, no input."""
    return {
        "type": "about:blank",
        "title": "Request validation failed",
        "status": 422,
        "detail": "The request did not validate.",
        "errors": [{k: e[k] for k in ("loc", "msg", "type")} for e in errors],
    }


def fastapi_invalid(*errors: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's 422 without the input (qakeapi echoes it only on request)."""
    return {"detail": [{k: v for k, v in e.items() if k != "input"} for e in errors]}


def check_422(mode: str, response: Any, *errors: dict[str, Any]) -> None:
    assert response.status_code == 422
    if mode == "fastapi":
        assert response.headers["content-type"] == "application/json"
        assert response.json() == fastapi_invalid(*errors)
    else:
        assert response.headers["content-type"] == PROBLEM
        assert response.json() == invalid(*errors)


def check_error(mode: str, response: Any, status_code: int, detail: Any) -> None:
    assert response.status_code == status_code
    if mode == "fastapi":
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"detail": detail}
    else:
        assert response.headers["content-type"] == PROBLEM
        assert response.json() == problem(status_code, detail)


def missing(*loc: Any) -> dict[str, Any]:
    return {"type": "missing", "loc": list(loc), "msg": "Field required", "input": None}


class Item(BaseModel):
    name: str
    description: str | None = None
    price: float
    tax: float | None = None


# -- path, query, header and cookie parameters --------------------------------------------


def params_app(mode: str) -> QakeAPI:
    app = make_app(mode)

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None, short: bool = False) -> Any:
        item: dict[str, Any] = {"item_id": item_id}
        if q:
            item["q"] = q
        if not short:
            item["description"] = "long"
        return item

    @app.get("/needy/{item_id}")
    async def needy(item_id: str, needy: str) -> Any:
        return {"item_id": item_id, "needy": needy}

    @app.get("/headers/")
    async def headers(
        user_agent: Annotated[str | None, Header()] = None,
        ads_id: Annotated[str | None, Cookie()] = None,
    ) -> Any:
        return {"User-Agent": user_agent, "ads_id": ads_id}

    return app


def test_path_query_header_cookie_parameters(mode: str) -> None:
    client = TestClient(params_app(mode))
    assert client.get("/items/5?q=x&short=1").json() == {"item_id": 5, "q": "x"}
    assert client.get("/items/5").json() == {"item_id": 5, "description": "long"}
    check_422(
        mode,
        client.get("/items/foo"),
        {
            "type": "int_parsing",
            "loc": ["path", "item_id"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "foo",
        },
    )
    check_422(mode, client.get("/needy/a"), missing("query", "needy"))
    client.cookies.set("ads_id", "abc")
    answer = client.get("/headers/", headers={"user-agent": "t/1"}).json()
    assert answer == {"User-Agent": "t/1", "ads_id": "abc"}


def test_the_input_is_echoed_only_when_the_app_asks() -> None:
    app = QakeAPI(compat="fastapi", echo_validation_input=True)

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> Any:
        return item_id

    body = TestClient(app).get("/items/foo").json()
    assert body == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["path", "item_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "foo",
            }
        ]
    }


# -- request bodies ------------------------------------------------------------------------


def body_app(mode: str) -> QakeAPI:
    app = make_app(mode)

    @app.post("/items/")
    async def create_item(item: Item) -> Any:
        return item

    @app.put("/items/{item_id}")
    async def update_item(item_id: int, item: Item, importance: Annotated[int, Body()]) -> Any:
        return {"item_id": item_id, "item": item, "importance": importance}

    return app


def test_body_models(mode: str) -> None:
    client = TestClient(body_app(mode))
    made = client.post("/items/", json={"name": "Foo", "price": 45.2})
    assert made.json() == {"name": "Foo", "description": None, "price": 45.2, "tax": None}
    check_422(
        mode,
        client.post("/items/", json={"name": "Foo", "price": "no"}),
        {
            "type": "float_parsing",
            "loc": ["body", "price"],
            "msg": "Input should be a valid number, unable to parse string as a number",
            "input": "no",
        },
    )
    check_422(mode, client.post("/items/"), missing("body"))
    # one entry per missing body parameter
    check_422(mode, client.put("/items/1"), missing("body", "item"), missing("body", "importance"))


def test_a_body_that_is_not_json(mode: str) -> None:
    client = TestClient(body_app(mode))
    broken = client.post(
        "/items/", content=b'{"name":1', headers={"content-type": "application/json"}
    )
    if mode == "fastapi":
        assert broken.status_code == 422
        assert broken.json() == {
            "detail": [
                {
                    "type": "json_invalid",
                    "loc": ["body", 9],
                    "msg": "JSON decode error",
                    "ctx": {"error": "Expecting ',' delimiter"},
                }
            ]
        }
    else:
        assert broken.status_code == 422
        assert broken.json()["errors"][0]["type"] == "json_invalid"
    text = client.post("/items/", content=b"name=x", headers={"content-type": "text/plain"})
    if mode == "fastapi":
        check_422(
            mode,
            text,
            {
                "type": "model_attributes_type",
                "loc": ["body"],
                "msg": "Input should be a valid dictionary or object to extract fields from",
                "input": "name=x",
            },
        )
    else:
        check_error(mode, text, 415, "Expected a JSON body (Content-Type: application/json).")


def test_validation_error_handler_sees_errors_and_body(mode: str) -> None:
    """FastAPI's "use the RequestValidationError body" tutorial."""
    app = make_app(mode)

    @app.exception_handler(RequestValidationError)
    async def handler(request: Request, exc: RequestValidationError) -> JSONResponse:
        content = jsonable_encoder({"detail": exc.errors(), "body": exc.body})
        return JSONResponse(status_code=422, content=content)

    class Sized(BaseModel):
        title: str
        size: int

    @app.post("/items/")
    async def create(item: Sized) -> Any:
        return item

    body = TestClient(app).post("/items/", json={"title": "towel", "size": "XL"}).json()
    assert body == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["body", "size"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "XL",
            }
        ],
        "body": {"title": "towel", "size": "XL"},
    }


# -- dependencies, errors and custom handlers -------------------------------------------


def deps_app(mode: str, log: list[str]) -> QakeAPI:
    app = make_app(mode)

    def get_db() -> Iterator[str]:
        log.append("open")
        try:
            yield "db"
        finally:
            log.append("close")

    async def verify_token(x_token: Annotated[str, Header()]) -> None:
        if x_token != "secret":
            raise HTTPException(status_code=400, detail="X-Token header invalid")

    @app.get("/items/{item_id}", dependencies=[Depends(verify_token)])
    async def read(item_id: str, db: Annotated[str, Depends(get_db)]) -> Any:
        if item_id == "missing":
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, "Item not found", headers={"X-Error": "There goes"}
            )
        return {"item_id": item_id, "db": db}

    class UnicornException(Exception):
        def __init__(self, name: str) -> None:
            self.name = name

    @app.exception_handler(UnicornException)
    async def unicorn(request: Request, exc: UnicornException) -> JSONResponse:
        return JSONResponse(status_code=418, content={"message": f"Oops! {exc.name}"})

    @app.get("/unicorns/{name}")
    async def read_unicorn(name: str) -> Any:
        if name == "yolo":
            raise UnicornException(name=name)
        return {"unicorn_name": name}

    @app.get("/boom")
    async def boom() -> Any:
        raise RuntimeError("a bug")

    return app


def test_dependencies_with_yield_and_http_exceptions(mode: str) -> None:
    log: list[str] = []
    client = TestClient(deps_app(mode, log), raise_server_exceptions=False)
    ok = client.get("/items/a", headers={"x-token": "secret"})
    assert ok.json() == {"item_id": "a", "db": "db"}
    assert log == ["open", "close"]
    check_error(
        mode, client.get("/items/a", headers={"x-token": "no"}), 400, "X-Token header invalid"
    )
    check_422(mode, client.get("/items/a"), missing("header", "x-token"))
    gone = client.get("/items/missing", headers={"x-token": "secret"})
    check_error(mode, gone, 404, "Item not found")
    assert gone.headers["x-error"] == "There goes"
    assert client.get("/unicorns/yolo").json() == {"message": "Oops! yolo"}
    boom = client.get("/boom")
    assert boom.status_code == 500
    if mode == "fastapi":
        assert boom.text == "Internal Server Error"
        assert boom.headers["content-type"].startswith("text/plain")
    else:
        assert boom.json() == problem(500, "The server failed to handle the request.")


def test_not_found_method_not_allowed_and_the_default_handler(mode: str) -> None:
    app = make_app(mode)
    seen: list[int] = []

    @app.exception_handler(HTTPException)
    async def logged(request: Request, exc: HTTPException) -> Any:
        seen.append(exc.status_code)
        return await http_exception_handler(request, exc)

    @app.get("/items/")
    async def items() -> Any:
        return []

    client = TestClient(app)
    check_error(mode, client.get("/nowhere"), 404, "Not Found")
    not_allowed = client.delete("/items/")
    check_error(mode, not_allowed, 405, "Method Not Allowed")
    assert "GET" in not_allowed.headers["allow"]
    assert seen == [404, 405]
    options = client.options("/items/")
    assert options.status_code == (405 if mode == "fastapi" else 204)


def test_trailing_slash_redirects(mode: str) -> None:
    app = make_app(mode)

    @app.post("/items/")
    async def create() -> Any:
        return "made"

    @app.get("/items/")
    async def items() -> Any:
        return []

    client = TestClient(app, follow_redirects=False)
    get = client.get("/items?x=1")
    posted = client.post("/items")
    if mode == "fastapi":
        assert (get.status_code, get.headers["location"]) == (307, "http://testserver/items/?x=1")
        assert (posted.status_code, posted.headers["location"]) == (
            307,
            "http://testserver/items/",
        )
    else:
        assert (get.status_code, get.headers["location"]) == (308, "/items/?x=1")
        assert posted.status_code == 404


def test_duplicate_routes(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(mode)

    @app.get("/users/me")
    async def me() -> Any:
        return "first"

    async def again() -> Any:
        return "second"

    if mode == "fastapi":
        app.get("/users/me")(again)
        assert TestClient(app).get("/users/me").json() == "first"
        assert "shadowed" in caplog.text
    else:
        from qake_routing import RouteConflict

        with pytest.raises(RouteConflict):
            app.get("/users/me")(again)


# -- responses -------------------------------------------------------------------------


def responses_app(mode: str) -> QakeAPI:
    app = make_app(mode)

    class UserIn(BaseModel):
        username: str
        password: str
        email: str

    class UserOut(BaseModel):
        username: str
        email: str

    @app.post("/user/", response_model=UserOut, status_code=status.HTTP_201_CREATED)
    async def create_user(user: UserIn) -> Any:
        return user

    @app.get(
        "/items/{name}",
        response_model=Item,
        response_model_exclude_unset=True,
        response_model_exclude={"tax"},
    )
    async def read_item(name: str) -> Any:
        return {"name": name, "price": 1.5, "tax": 0.2}

    @app.get("/hello")
    async def hello() -> Any:
        return "Hello World"

    @app.get("/html/", response_class=HTMLResponse)
    async def html() -> Any:
        return "<h1>Look ma! HTML!</h1>"

    @app.get("/text", response_class=PlainTextResponse)
    async def text() -> Any:
        return "Hello World"

    return app


def test_response_models_status_codes_and_custom_responses(mode: str) -> None:
    client = TestClient(responses_app(mode))
    made = client.post("/user/", json={"username": "a", "password": "p", "email": "a@x"})
    assert (made.status_code, made.json()) == (201, {"username": "a", "email": "a@x"})
    assert client.get("/items/foo").json() == {"name": "foo", "price": 1.5}
    hello = client.get("/hello")
    if mode == "fastapi":
        assert (hello.headers["content-type"], hello.text) == ("application/json", '"Hello World"')
    else:
        assert hello.headers["content-type"] == "text/plain; charset=utf-8"
        assert hello.text == "Hello World"
    assert client.get("/html/").headers["content-type"] == "text/html; charset=utf-8"
    assert client.get("/text").text == "Hello World"


# -- forms and files -------------------------------------------------------------------


def test_forms_and_files(mode: str) -> None:
    app = make_app(mode)

    @app.post("/login/")
    async def login(username: Annotated[str, Form()], password: Annotated[str, Form()]) -> Any:
        return {"username": username}

    @app.post("/files/")
    async def upload(file: UploadFile, token: Annotated[str, Form()]) -> Any:
        return {"filename": file.filename, "size": len(await file.read()), "token": token}

    @app.post("/raw/")
    async def raw(file: Annotated[bytes, File()]) -> Any:
        return {"file_size": len(file)}

    client = TestClient(app)
    assert client.post("/login/", data={"username": "a", "password": "b"}).json() == {
        "username": "a"
    }
    check_422(mode, client.post("/login/", data={"username": "a"}), missing("body", "password"))
    sent = client.post("/files/", files={"file": ("a.txt", b"hello")}, data={"token": "t"})
    assert sent.json() == {"filename": "a.txt", "size": 5, "token": "t"}
    assert client.post("/raw/", files={"file": ("b", b"abc")}).json() == {"file_size": 3}
    as_json = client.post("/login/", json={"username": "a", "password": "b"})
    if mode == "fastapi":
        check_422(mode, as_json, missing("body", "username"), missing("body", "password"))
    else:
        assert as_json.status_code == 415


# -- bigger applications ---------------------------------------------------------------


def test_bigger_applications_with_api_router(mode: str) -> None:
    app = make_app(mode)

    async def get_token_header(x_token: Annotated[str, Header()]) -> None:
        if x_token != "fake-super-secret-token":
            raise HTTPException(status_code=400, detail="X-Token header invalid")

    router = APIRouter(
        prefix="/items",
        tags=["items"],
        dependencies=[Depends(get_token_header)],
        responses={404: {"description": "Not found"}},
    )
    fake_items_db = {"plumbus": {"name": "Plumbus"}}

    @router.get("/{item_id}")
    async def read_item(item_id: str) -> Any:
        if item_id not in fake_items_db:
            raise HTTPException(status_code=404, detail="Item not found")
        return {"name": fake_items_db[item_id]["name"], "item_id": item_id}

    app.include_router(router)
    client = TestClient(app)
    headers = {"x-token": "fake-super-secret-token"}
    assert client.get("/items/plumbus", headers=headers).json() == {
        "name": "Plumbus",
        "item_id": "plumbus",
    }
    check_error(mode, client.get("/items/bar", headers=headers), 404, "Item not found")
    check_error(
        mode, client.get("/items/bar", headers={"x-token": "x"}), 400, "X-Token header invalid"
    )


def test_compat_per_router() -> None:
    """A FastAPI router ported into a qakeapi app keeps FastAPI's answers; the app's
    own routes keep qakeapi's, and a router can opt out inside a compatible app."""
    app = QakeAPI()
    legacy = APIRouter(prefix="/v1", compat="fastapi")

    @legacy.get("/items/{item_id}")
    async def old(item_id: int) -> Any:
        raise HTTPException(404, "Item not found")

    @app.get("/v2/items/{item_id}")
    async def new(item_id: int) -> Any:
        raise HTTPException(404, "Item not found")

    app.include_router(legacy)
    client = TestClient(app)
    check_error("fastapi", client.get("/v1/items/1"), 404, "Item not found")
    check_error("qakeapi", client.get("/v2/items/1"), 404, "Item not found")
    check_422("fastapi", client.get("/v1/items/x"), _int_error("path", "item_id", "x"))

    compatible = QakeAPI(compat="fastapi")
    modern = APIRouter(compat="qakeapi")
    modern.get("/new/{item_id}")(new)
    compatible.include_router(modern)
    check_error("qakeapi", TestClient(compatible).get("/new/1"), 404, "Item not found")


def _int_error(where: str, name: str, value: str) -> dict[str, Any]:
    return {
        "type": "int_parsing",
        "loc": [where, name],
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": value,
    }


def test_an_unknown_compat_mode_fails_at_startup() -> None:
    with pytest.raises(ValueError, match=r"compat='flask' is not supported; use compat='fastapi'"):
        QakeAPI(compat="flask")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Router\(prefix='/x'\): compat="):
        APIRouter(prefix="/x", compat="starlette")  # type: ignore[arg-type]


# -- background tasks, overrides, lifespan ----------------------------------------------


def test_background_tasks_overrides_and_lifespan(mode: str) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: QakeAPI) -> Any:
        events.append("startup")
        yield
        events.append("shutdown")

    app = make_app(mode, lifespan=lifespan)

    async def common(q: str | None = None) -> dict[str, Any]:
        return {"q": q}

    @app.post("/send/{email}")
    async def send(email: str, tasks: BackgroundTasks) -> Any:
        tasks.add_task(events.append, f"mail {email}")
        return {"message": "Notification sent in the background"}

    @app.get("/items/")
    async def items(commons: Annotated[dict[str, Any], Depends(common)]) -> Any:
        return commons

    with TestClient(app) as client:
        assert client.post("/send/a@x").json() == {"message": "Notification sent in the background"}
        assert client.get("/items/?q=1").json() == {"q": "1"}
        app.dependency_overrides[common] = lambda: {"q": "override"}
        assert client.get("/items/").json() == {"q": "override"}
        app.dependency_overrides = {}
    assert events == ["startup", "mail a@x", "shutdown"]


# -- streaming -------------------------------------------------------------------------


def stream_app(mode: str) -> QakeAPI:
    app = make_app(mode)

    @app.get("/items")
    async def items() -> AsyncIterable[Item]:
        yield Item(name="a", price=1)
        yield {"name": "b", "price": "2"}  # type: ignore[misc]

    @app.get("/events", response_class=EventSourceResponse)
    async def events() -> AsyncIterable[Item]:
        yield Item(name="a", price=1)
        yield ServerSentEvent(data="bye", event="end")  # type: ignore[misc]

    @app.get("/numbers")
    def numbers(limit: int = 3) -> Iterator[int]:
        yield from range(limit)

    @app.get("/text", response_class=PlainTextResponse)
    async def text() -> AsyncIterable[str]:
        yield "one "
        yield "two"

    @app.get("/bad")
    async def bad() -> AsyncIterable[Item]:
        yield {"name": "no price"}  # type: ignore[misc]

    return app


def test_streaming_json_lines_sse_and_raw(mode: str) -> None:
    client = TestClient(stream_app(mode))
    lines = client.get("/items")
    assert lines.headers["content-type"] == "application/jsonl"
    assert lines.text == (
        '{"name":"a","description":null,"price":1.0,"tax":null}\n'
        '{"name":"b","description":null,"price":2.0,"tax":null}\n'
    )
    events = client.get("/events")
    assert events.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert events.text == (
        'data: {"name":"a","description":null,"price":1.0,"tax":null}\n\nevent: end\ndata: bye\n\n'
    )
    assert client.get("/numbers?limit=4").text == "0\n1\n2\n3\n"
    text = client.get("/text")
    assert (text.headers["content-type"], text.text) == ("text/plain; charset=utf-8", "one two")


def test_a_streamed_item_that_does_not_fit_its_type_ends_the_stream(mode: str) -> None:
    from pydantic import ValidationError

    client = TestClient(stream_app(mode))
    with pytest.raises(ValidationError):
        client.get("/bad")


# -- CORS and url_for ------------------------------------------------------------------


def test_cors_preflight_and_url_for(mode: str) -> None:
    from qakeapi.security import CORSMiddleware

    app = make_app(mode)
    app.add_middleware(CORSMiddleware, allow_origins=["https://a.example"], allow_methods=["GET"])

    @app.get("/items/{item_id}", name="item")
    async def item(item_id: str, request: Request) -> Any:
        return {"url": str(request.url_for("item", item_id="7"))}

    client = TestClient(app)
    preflight = client.options(
        "/items/1",
        headers={"origin": "https://a.example", "access-control-request-method": "GET"},
    )
    url = client.get("/items/1").json()["url"]
    if mode == "fastapi":
        assert (preflight.status_code, preflight.text) == (200, "OK")
        assert url == "http://testserver/items/7"
    else:
        assert (preflight.status_code, preflight.text) == (204, "")
        assert url == "/items/7"
