"""FastAPI's names at the module paths FastAPI users import from (issue 17).

``qakeapi.status``, ``APIRouter``, ``qakeapi.responses``, ``qakeapi.concurrency``,
``qakeapi.exception_handlers`` and ``RequestValidationError.errors()`` / ``.body``;
``jsonable_encoder`` has its own file (``test_fastapi_encoders.py``).
"""

from __future__ import annotations

import http
import logging
import threading
import warnings
from collections.abc import Iterator
from typing import Annotated, Any

import pytest

import qakeapi
from qakeapi import (
    APIRouter,
    Depends,
    Header,
    HTTPException,
    QakeAPI,
    Request,
    RequestValidationError,
    Response,
    Router,
    WebSocket,
    status,
)
from qakeapi.concurrency import iterate_in_threadpool, run_in_threadpool
from qakeapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
    websocket_request_validation_exception_handler,
)
from qakeapi.responses import (
    EventSourceResponse,
    FileResponse,
    HTMLResponse,
    JSONResponse,
    ORJSONResponse,
    PlainTextResponse,
    RedirectResponse,
    StreamingResponse,
    UJSONResponse,
)
from qakeapi.testing import TestClient, WebSocketDisconnect

# -- qakeapi.status -------------------------------------------------------------------

WEBSOCKET_CODES = {
    "WS_1000_NORMAL_CLOSURE": 1000,
    "WS_1001_GOING_AWAY": 1001,
    "WS_1002_PROTOCOL_ERROR": 1002,
    "WS_1003_UNSUPPORTED_DATA": 1003,
    "WS_1005_NO_STATUS_RCVD": 1005,
    "WS_1006_ABNORMAL_CLOSURE": 1006,
    "WS_1007_INVALID_FRAME_PAYLOAD_DATA": 1007,
    "WS_1008_POLICY_VIOLATION": 1008,
    "WS_1009_MESSAGE_TOO_BIG": 1009,
    "WS_1010_MANDATORY_EXT": 1010,
    "WS_1011_INTERNAL_ERROR": 1011,
    "WS_1012_SERVICE_RESTART": 1012,
    "WS_1013_TRY_AGAIN_LATER": 1013,
    "WS_1014_BAD_GATEWAY": 1014,
    "WS_1015_TLS_HANDSHAKE": 1015,
}


def test_status_is_importable_from_qakeapi_as_a_module() -> None:
    import qakeapi.status as by_path

    assert status is by_path
    assert "status" in qakeapi.__all__
    assert status.HTTP_200_OK == 200
    assert status.HTTP_511_NETWORK_AUTHENTICATION_REQUIRED == 511


def test_every_http_status_python_knows_has_a_constant_with_its_value() -> None:
    http_names = {n for n in status.__all__ if n.startswith("HTTP_")}
    by_code = {int(n.split("_")[1]): n for n in http_names}
    missing = [s for s in http.HTTPStatus if s.value not in by_code]
    assert missing == []
    for code, name in by_code.items():
        assert getattr(status, name) == code, name


def test_every_constant_holds_the_number_in_its_name() -> None:
    assert len(status.__all__) == len(set(status.__all__)) == 78
    for name in status.__all__:
        assert getattr(status, name) == int(name.split("_")[1]), name


def test_the_websocket_close_codes_are_starlettes() -> None:
    ws_names = {n: getattr(status, n) for n in status.__all__ if n.startswith("WS_")}
    assert ws_names == WEBSOCKET_CODES


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("HTTP_413_REQUEST_ENTITY_TOO_LARGE", "HTTP_413_CONTENT_TOO_LARGE"),
        ("HTTP_414_REQUEST_URI_TOO_LONG", "HTTP_414_URI_TOO_LONG"),
        ("HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE", "HTTP_416_RANGE_NOT_SATISFIABLE"),
        ("HTTP_422_UNPROCESSABLE_ENTITY", "HTTP_422_UNPROCESSABLE_CONTENT"),
    ],
)
def test_the_names_rfc_9110_replaced_still_work_and_warn(old: str, new: str) -> None:
    with pytest.warns(DeprecationWarning, match=new):
        value = getattr(status, old)
    assert value == getattr(status, new)
    assert old in dir(status)
    assert old not in status.__all__


def test_an_unknown_status_name_is_an_attribute_error() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError, match="HTTP_299_NOPE"):
            _ = status.HTTP_299_NOPE


def test_status_constants_work_in_route_decorators() -> None:
    app = QakeAPI()

    @app.post("/items", status_code=status.HTTP_201_CREATED)
    async def create() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/gone")
    async def gone() -> None:
        raise HTTPException(status_code=status.HTTP_410_GONE)

    client = TestClient(app)
    assert client.post("/items").status_code == 201
    assert client.get("/gone").status_code == 410


# -- APIRouter: FastAPI's "bigger applications" layout --------------------------------


async def get_token_header(x_token: Annotated[str, Header()]) -> None:
    if x_token != "fake-super-secret-token":
        raise HTTPException(status_code=400, detail="X-Token header invalid")


async def get_query_token(token: str) -> None:
    if token != "jessica":
        raise HTTPException(status_code=400, detail="No Jessica token provided")


def _users_router() -> APIRouter:
    router = APIRouter()

    @router.get("/users/", tags=["users"])
    async def read_users() -> list[dict[str, str]]:
        return [{"username": "Rick"}, {"username": "Morty"}]

    @router.get("/users/me", tags=["users"])
    async def read_user_me() -> dict[str, str]:
        return {"username": "fakecurrentuser"}

    @router.get("/users/{username}", tags=["users"])
    async def read_user(username: str) -> dict[str, str]:
        return {"username": username}

    return router


FAKE_ITEMS = {"plumbus": {"name": "Plumbus"}, "gun": {"name": "Portal Gun"}}


def _items_router() -> APIRouter:
    router = APIRouter(
        prefix="/items",
        tags=["items"],
        dependencies=[Depends(get_token_header)],
        responses={404: {"description": "Not found"}},
    )

    @router.get("/")
    async def read_items() -> dict[str, dict[str, str]]:
        return FAKE_ITEMS

    @router.get("/{item_id}")
    async def read_item(item_id: str) -> dict[str, str]:
        if item_id not in FAKE_ITEMS:
            raise HTTPException(status_code=404, detail="Item not found")
        return {"name": FAKE_ITEMS[item_id]["name"], "item_id": item_id}

    @router.put("/{item_id}", tags=["custom"], responses={403: {"description": "Forbidden"}})
    async def update_item(item_id: str) -> dict[str, str]:
        if item_id != "plumbus":
            raise HTTPException(status_code=403, detail="You can only update the item: plumbus")
        return {"item_id": item_id, "name": "The great Plumbus"}

    return router


def _admin_router() -> APIRouter:
    router = APIRouter()

    @router.post("/")
    async def update_admin() -> dict[str, str]:
        return {"message": "Admin getting schwifty"}

    return router


def _bigger_app() -> QakeAPI:
    app = QakeAPI(dependencies=[Depends(get_query_token)])
    app.include_router(_users_router())
    app.include_router(_items_router())
    app.include_router(
        _admin_router(),
        prefix="/admin",
        tags=["admin"],
        dependencies=[Depends(get_token_header)],
        responses={418: {"description": "I'm a teapot"}},
    )

    @app.get("/")
    async def root() -> dict[str, str]:
        return {"message": "Hello Bigger Applications!"}

    return app


def test_api_router_is_router() -> None:
    assert APIRouter is Router
    assert "APIRouter" in qakeapi.__all__


def test_bigger_applications_answer_as_in_fastapis_tutorial() -> None:
    client = TestClient(_bigger_app())
    token = {"X-Token": "fake-super-secret-token"}
    assert client.get("/?token=jessica").json() == {"message": "Hello Bigger Applications!"}
    assert client.get("/users/?token=jessica").json()[0] == {"username": "Rick"}
    assert client.get("/users/me?token=jessica").json() == {"username": "fakecurrentuser"}
    assert client.get("/users/morty?token=jessica").json() == {"username": "morty"}
    assert client.get("/items/?token=jessica", headers=token).json() == FAKE_ITEMS
    answer = client.get("/items/plumbus?token=jessica", headers=token)
    assert answer.json() == {"name": "Plumbus", "item_id": "plumbus"}
    assert client.get("/items/bar?token=jessica", headers=token).status_code == 404
    assert client.put("/items/plumbus?token=jessica", headers=token).status_code == 200
    assert client.put("/items/bar?token=jessica", headers=token).status_code == 403
    answer = client.post("/admin/?token=jessica", headers=token)
    assert answer.json() == {"message": "Admin getting schwifty"}


def test_bigger_applications_dependencies_guard_every_level() -> None:
    client = TestClient(_bigger_app())
    # The app's dependency guards every route, the router's and include_router's theirs.
    assert client.get("/users/").status_code == 422  # token missing
    missing_jessica = client.get("/users/?token=rick")
    assert missing_jessica.status_code == 400
    assert missing_jessica.json()["detail"] == "No Jessica token provided"
    bad_header = client.get("/items/?token=jessica", headers={"X-Token": "nope"})
    assert bad_header.status_code == 400
    assert bad_header.json()["detail"] == "X-Token header invalid"
    assert client.post("/admin/?token=jessica").status_code == 422  # X-Token missing


def test_bigger_applications_document_tags_and_responses_by_level() -> None:
    paths = _bigger_app().openapi()["paths"]
    put = paths["/items/{item_id}"]["put"]
    assert put["tags"] == ["items", "custom"]
    assert {"403", "404"} <= set(put["responses"])
    admin = paths["/admin/"]["post"]
    assert admin["tags"] == ["admin"]
    assert admin["responses"]["418"]["description"] == "I'm a teapot"
    assert paths["/users/"]["get"]["tags"] == ["users"]


def test_api_router_takes_fastapis_keywords() -> None:
    router = APIRouter(
        prefix="/v1",
        tags=["v1"],
        dependencies=[],
        responses={404: {"description": "Not found"}},
        deprecated=True,
        include_in_schema=False,
        default_response_class=HTMLResponse,
        callbacks=[],
        generate_unique_id_function=lambda route: route.name,
    )

    @router.get("/page")
    async def page() -> str:
        return "<p>hi</p>"

    app = QakeAPI()
    app.include_router(
        router,
        prefix="/api",
        tags=["api"],
        dependencies=[],
        responses={},
        deprecated=True,
        include_in_schema=False,
        default_response_class=HTMLResponse,
        callbacks=[],
        generate_unique_id_function=lambda route: route.name,
    )
    answer = TestClient(app).get("/api/v1/page")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "/api/v1/page" not in app.openapi()["paths"]


def test_route_class_is_refused_at_startup_with_advice() -> None:
    with pytest.raises(TypeError, match=r"'route_class'.*hook middleware"):
        APIRouter(route_class=object)
    with pytest.raises(TypeError, match=r"'route_class'.*hook middleware"):
        QakeAPI().include_router(APIRouter(), route_class=object)


# -- qakeapi.responses ----------------------------------------------------------------


def test_responses_are_qakeapis_classes() -> None:
    assert ORJSONResponse is JSONResponse is qakeapi.JSONResponse
    assert UJSONResponse is JSONResponse
    for cls in (
        EventSourceResponse,
        FileResponse,
        HTMLResponse,
        PlainTextResponse,
        RedirectResponse,
        StreamingResponse,
    ):
        assert getattr(qakeapi, cls.__name__) is cls
    from qakeapi.responses import Response as ResponsesResponse

    assert ResponsesResponse is Response


def test_orjson_response_writes_what_fastapis_does() -> None:
    # FastAPI's ORJSONResponse: orjson with OPT_NON_STR_KEYS (and numpy); no spaces.
    body = ORJSONResponse({"a": [1, 2.5, None, True], 3: "é/x"}).body
    assert body == '{"a":[1,2.5,null,true],"3":"é/x"}'.encode()


def test_orjson_response_class_on_a_route() -> None:
    app = QakeAPI()

    @app.get("/items", response_class=ORJSONResponse)
    async def items() -> list[dict[str, int]]:
        return [{"item_id": 1}]

    answer = TestClient(app).get("/items")
    assert answer.headers["content-type"] == "application/json"
    assert answer.content == b'[{"item_id":1}]'


# -- qakeapi.concurrency --------------------------------------------------------------


def _blocking_add(a: int, b: int = 0) -> tuple[int, str]:
    return a + b, threading.current_thread().name


def test_run_in_threadpool_runs_in_a_worker_thread() -> None:
    app = QakeAPI()

    @app.get("/sum")
    async def total() -> dict[str, Any]:
        value, thread = await run_in_threadpool(_blocking_add, 2, b=3)
        return {"value": value, "other_thread": thread != threading.current_thread().name}

    assert TestClient(app).get("/sum").json() == {"value": 5, "other_thread": True}


def test_iterate_in_threadpool_streams_a_blocking_iterator() -> None:
    threads: set[str] = set()

    def lines() -> Iterator[str]:
        for i in range(3):
            threads.add(threading.current_thread().name)
            yield f"line {i}\n"

    app = QakeAPI()

    @app.get("/lines")
    async def stream() -> StreamingResponse:
        loop_thread = threading.current_thread().name
        threads.add(loop_thread)
        return StreamingResponse(iterate_in_threadpool(lines()), media_type="text/plain")

    assert TestClient(app).get("/lines").text == "line 0\nline 1\nline 2\n"
    assert len(threads) >= 2  # the loop's thread and at least one worker


def test_iterate_in_threadpool_ends_and_propagates_errors() -> None:
    import anyio

    def failing() -> Iterator[int]:
        yield 1
        raise LookupError("broken")

    async def collect(source: Any) -> list[Any]:
        return [item async for item in iterate_in_threadpool(source)]

    assert anyio.run(collect, []) == []
    assert anyio.run(collect, iter([1, 2])) == [1, 2]
    with pytest.raises(LookupError, match="broken"):
        anyio.run(collect, failing())


# -- qakeapi.exception_handlers and RequestValidationError ---------------------------


def _app_with_logging_handlers(log: list[str]) -> QakeAPI:
    app = QakeAPI()

    @app.exception_handler(HTTPException)
    async def logged_http_exception(request: Request, exc: HTTPException) -> Response:
        log.append(f"OMG! An HTTP error!: {exc!r}")
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def logged_validation(request: Request, exc: RequestValidationError) -> Response:
        log.append(f"OMG! The client sent invalid data!: {exc.errors()}")
        return await request_validation_exception_handler(request, exc)

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        if item_id == 3:
            raise HTTPException(status_code=418, detail="Nope! I don't like 3.")
        if item_id == 4:
            raise HTTPException(status_code=304)
        return {"item_id": item_id}

    return app


def _default_app() -> QakeAPI:
    app = QakeAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        if item_id == 3:
            raise HTTPException(status_code=418, detail="Nope! I don't like 3.")
        if item_id == 4:
            raise HTTPException(status_code=304)
        return {"item_id": item_id}

    return app


@pytest.mark.parametrize("path", ["/items/3", "/items/foo", "/items/4", "/items/5"])
def test_handlers_that_log_then_delegate_answer_as_the_defaults(path: str) -> None:
    log: list[str] = []
    custom = TestClient(_app_with_logging_handlers(log)).get(path)
    default = TestClient(_default_app()).get(path)
    assert custom.status_code == default.status_code
    assert custom.content == default.content
    assert custom.headers.get("content-type") == default.headers.get("content-type")
    assert len(log) == (0 if path == "/items/5" else 1)


def test_the_default_answers_are_problem_json() -> None:
    log: list[str] = []
    client = TestClient(_app_with_logging_handlers(log))
    teapot = client.get("/items/3")
    assert teapot.status_code == 418
    assert teapot.headers["content-type"] == "application/problem+json"
    assert teapot.json()["detail"] == "Nope! I don't like 3."
    invalid = client.get("/items/foo")
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["loc"] == ["path", "item_id"]
    assert "OMG! The client sent invalid data!: [{" in log[1]
    assert "'loc': ['path', 'item_id']" in log[1]
    assert client.get("/items/4").content == b""


def test_http_exception_headers_are_kept() -> None:
    app = QakeAPI()

    @app.exception_handler(HTTPException)
    async def delegate(request: Request, exc: HTTPException) -> Response:
        return await http_exception_handler(request, exc)

    @app.get("/secret")
    async def secret() -> None:
        raise HTTPException(401, "no", headers={"WWW-Authenticate": "Bearer"})

    answer = TestClient(app).get("/secret")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


def test_request_validation_error_errors_is_a_list_and_a_method() -> None:
    errors = [{"loc": ["body", "name"], "msg": "Field required", "type": "missing"}]
    exc = RequestValidationError(errors)
    assert exc.errors == errors
    assert exc.errors() == errors
    assert exc.errors()[0]["type"] == "missing"
    assert exc.body is None
    with_body = RequestValidationError(errors, body={"title": "x"})
    assert with_body.body == {"title": "x"}
    assert with_body.status_code == 422
    assert with_body.extra == {"errors": errors}


def test_the_validation_errors_of_a_request_reach_a_handler_through_errors() -> None:
    app = QakeAPI()
    seen: list[list[dict[str, Any]]] = []

    @app.exception_handler(RequestValidationError)
    async def handler(request: Request, exc: RequestValidationError) -> Response:
        seen.append(exc.errors())
        return JSONResponse({"detail": exc.errors()}, status_code=422)

    @app.get("/items")
    async def items(size: int) -> dict[str, int]:
        return {"size": size}

    answer = TestClient(app).get("/items?size=big")
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "size"]
    assert seen[0][0]["type"] == "int_parsing"


def test_websocket_validation_handler_closes_with_1008() -> None:
    app = QakeAPI()

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        data = await websocket.receive_json()
        if not isinstance(data.get("count"), int):
            exc = RequestValidationError(
                [{"loc": ["count"], "msg": "not an int", "type": "int_type"}]
            )
            await websocket_request_validation_exception_handler(websocket, exc)
            return
        await websocket.send_json(data)

    client = TestClient(app)
    with client.websocket_connect("/ws") as websocket:
        websocket.send_json({"count": 2})
        assert websocket.receive_json() == {"count": 2}
    with client.websocket_connect("/ws") as websocket:
        websocket.send_json({"count": "two"})
        with pytest.raises(WebSocketDisconnect) as info:
            websocket.receive_text()
    assert info.value.code == status.WS_1008_POLICY_VIOLATION
    assert info.value.reason == "The request did not validate."


def test_logging_handler_pattern_with_the_logging_module(caplog: pytest.LogCaptureFixture) -> None:
    app = QakeAPI()
    logger = logging.getLogger("tests.fastapi_names")

    @app.exception_handler(HTTPException)
    async def logged(request: Request, exc: HTTPException) -> Response:
        logger.warning("HTTP error %s on %s", exc.status_code, request.url.path)
        return await http_exception_handler(request, exc)

    with caplog.at_level(logging.WARNING, logger="tests.fastapi_names"):
        assert TestClient(app).get("/nowhere").status_code == 404
    assert "HTTP error 404 on /nowhere" in caplog.text
