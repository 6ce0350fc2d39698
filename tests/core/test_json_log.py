"""Issue 18: structured JSON logs. ``JSONFormatter`` writes each record as one JSON line
(the request ID found without a filter, ``extra=`` fields, errors with their type and
traceback); ``AccessLogMiddleware``'s line carries the route template."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import orjson
import pytest

from qake_core import (
    AccessLogMiddleware,
    App,
    JSONFormatter,
    Middleware,
    RequestIDMiddleware,
    StreamingResponse,
    request_id_var,
)
from qake_testing import TestClient


class Lines(logging.Handler):
    """Every record, formatted by a JSONFormatter, parsed back."""

    def __init__(self, formatter: JSONFormatter | None = None) -> None:
        super().__init__()
        self.setFormatter(formatter or JSONFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def entries(self, logger: str | None = None) -> list[dict[str, Any]]:
        parsed = [orjson.loads(line) for line in self.lines]
        return [e for e in parsed if logger is None or e["logger"] == logger]


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    names = ("qake", "test.app")
    old = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.INFO)
    try:
        yield handler
    finally:
        for name in names:
            logging.getLogger(name).removeHandler(handler)
            logging.getLogger(name).setLevel(old[name])


def record(message: str = "hello %s", *args: object, **attrs: Any) -> logging.LogRecord:
    made = logging.LogRecord("test.unit", logging.WARNING, __file__, 10, message, args, None)
    made.__dict__.update(attrs)
    return made


def test_a_record_is_one_line_of_json_with_the_standard_fields() -> None:
    line = JSONFormatter().format(
        record("hello %s", "world", created=1_700_000_000.25, msecs=250.0)
    )
    assert "\n" not in line
    entry = orjson.loads(line)
    assert entry == {
        "time": "2023-11-14T22:13:20.250Z",
        "level": "WARNING",
        "logger": "test.unit",
        "message": "hello world",
        "pid": os.getpid(),
    }


def test_extra_fields_and_constant_fields_become_fields() -> None:
    class Opaque:
        def __str__(self) -> str:
            return "opaque!"

    formatter = JSONFormatter({"service": "shop", "env": "prod"})
    made = record(http_status=201, duration_ms=1.5, user=Opaque(), big=2**70, nested={"a": [1]})
    entry = orjson.loads(formatter.format(made))
    assert entry["http_status"] == 201
    assert entry["duration_ms"] == 1.5
    assert entry["user"] == "opaque!"  # what JSON cannot hold: its str()
    assert entry["big"] == str(2**70)  # beyond 64 bits: orjson refuses it, written as text
    assert entry["nested"] == {"a": [1]}
    assert (entry["service"], entry["env"]) == ("shop", "prod")


def test_an_error_record_has_the_exception_type_message_and_traceback() -> None:
    class QuotaExceeded(Exception):
        pass

    try:
        raise QuotaExceeded("over the limit")
    except QuotaExceeded:
        made = logging.LogRecord(
            "qake.error", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    entry = orjson.loads(JSONFormatter().format(made))
    assert entry["exc_type"] == f"{__name__}.{QuotaExceeded.__qualname__}"
    assert entry["exc_message"] == "over the limit"
    tb = entry["traceback"]
    assert tb.startswith("Traceback (most recent call last):")
    assert 'raise QuotaExceeded("over the limit")' in tb
    assert tb.endswith("QuotaExceeded: over the limit")
    # A builtin's name is bare.
    try:
        {}["missing"]
    except KeyError:
        made = logging.LogRecord("x", logging.ERROR, __file__, 1, "m", (), sys.exc_info())
    assert orjson.loads(JSONFormatter().format(made))["exc_type"] == "KeyError"


def test_stack_info_is_a_field() -> None:
    made = record(stack_info="Stack (most recent call last):\n  File x")
    assert orjson.loads(JSONFormatter().format(made))["stack"].startswith("Stack")


def test_uvicorns_access_record_becomes_fields() -> None:
    args = ("127.0.0.1:5000", "GET", "/items/3?q=1", "1.1", 200)
    made = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None
    )
    made.color_message = "\x1b[1m...\x1b[0m"  # uvicorn's coloured copy: left out
    entry = orjson.loads(JSONFormatter().format(made))
    assert entry["message"] == '127.0.0.1:5000 - "GET /items/3?q=1 HTTP/1.1" 200'
    assert entry["client"] == "127.0.0.1:5000"
    assert (entry["http_method"], entry["http_path"]) == ("GET", "/items/3?q=1")
    assert (entry["http_version"], entry["http_status"]) == ("1.1", 200)
    assert "color_message" not in entry


def test_the_request_id_comes_from_the_record_or_the_current_request() -> None:
    formatter = JSONFormatter()
    assert "request_id" not in orjson.loads(formatter.format(record()))
    assert orjson.loads(formatter.format(record(request_id="rid-1")))["request_id"] == "rid-1"
    token = request_id_var.set("rid-ctx")
    try:
        assert orjson.loads(formatter.format(record()))["request_id"] == "rid-ctx"
        # RequestIDFilter's "-" (no request) does not hide the current one.
        assert orjson.loads(formatter.format(record(request_id="-")))["request_id"] == "rid-ctx"
    finally:
        request_id_var.reset(token)


def logged_app(*middleware: type[Any]) -> App:
    app = App(middleware=[Middleware(cls) for cls in middleware])

    @app.get("/items/{item_id:int}")
    async def item(item_id: int) -> dict[str, int]:
        logging.getLogger("test.app").info("looking up %d", item_id, extra={"item": item_id})
        return {"item_id": item_id}

    @app.get("/boom")
    async def boom() -> dict[str, str]:
        raise RuntimeError("the database password is hunter2")

    @app.get("/cut")
    async def cut() -> StreamingResponse:
        async def rows() -> AsyncIterator[bytes]:
            yield b"first row\n"
            raise RuntimeError("the cursor died")

        return StreamingResponse(rows())

    return app


ORDERS = {
    "access log outermost": (AccessLogMiddleware, RequestIDMiddleware),
    "request ID outermost": (RequestIDMiddleware, AccessLogMiddleware),
}


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
def test_one_access_line_per_request_with_route_template_and_request_id(
    lines: Lines, order: tuple[type[Any], ...]
) -> None:
    with TestClient(logged_app(*order)) as client:
        ok = client.get("/items/42", headers={"x-request-id": "rid-42"})
        missing = client.get("/items/not-a-number/more")
    assert ok.status_code == 200
    assert missing.status_code == 404
    access = lines.entries("qake.access")
    assert len(access) == 2
    first, second = access
    assert first["request_id"] == "rid-42"
    assert first["http_route"] == "/items/{item_id:int}"
    assert (first["http_method"], first["http_path"], first["http_status"]) == (
        "GET",
        "/items/42",
        200,
    )
    assert isinstance(first["duration_ms"], float)
    assert first["duration_ms"] >= 0
    assert first["client"] == "testclient:50000"
    assert first["message"].startswith("GET /items/42 200 ")
    assert first["response_complete"] is True
    assert not first["message"].endswith("cut off")
    # No route: the template is null (the raw path stays in http_path only).
    assert second["http_route"] is None
    assert second["http_status"] == 404
    assert second["request_id"] == missing.headers["x-request-id"] != "rid-42"
    # The handler's own record: the same request ID, its extra field.
    (app_line,) = lines.entries("test.app")
    assert (app_line["message"], app_line["item"], app_line["request_id"]) == (
        "looking up 42",
        42,
        "rid-42",
    )


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
def test_an_error_is_logged_with_its_traceback_and_answered_without_it(
    lines: Lines, order: tuple[type[Any], ...]
) -> None:
    with TestClient(logged_app(*order), raise_server_exceptions=False) as client:
        answer = client.get("/boom", headers={"x-request-id": "rid-boom"})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert "hunter2" not in answer.text
    assert "Traceback" not in answer.text
    (error,) = lines.entries("qake.error")
    assert error["level"] == "ERROR"
    assert error["request_id"] == "rid-boom"
    assert error["exc_type"] == "RuntimeError"
    assert error["exc_message"] == "the database password is hunter2"
    assert "Traceback (most recent call last):" in error["traceback"]
    assert 'raise RuntimeError("the database password is hunter2")' in error["traceback"]
    (access,) = lines.entries("qake.access")
    assert (access["http_status"], access["http_route"], access["request_id"]) == (
        500,
        "/boom",
        "rid-boom",
    )


def test_a_response_cut_off_mid_body_is_logged_as_such(lines: Lines) -> None:
    """Its status line (200) went out, its body did not end: the access line says so
    rather than pass for a served 200."""
    with TestClient(logged_app(AccessLogMiddleware), raise_server_exceptions=False) as client:
        answer = client.get("/cut")
    assert answer.content == b"first row\n"  # then the server dropped the connection
    (access,) = lines.entries("qake.access")
    assert (access["http_status"], access["response_complete"]) == (200, False)
    assert access["message"].startswith("GET /cut 200 ")
    assert access["message"].endswith("ms, cut off")


def test_a_hostile_path_cannot_forge_a_log_line(lines: Lines) -> None:
    forged = '/x%0d%0a{"level":"CRITICAL","message":"forged"}%00'
    with TestClient(logged_app(AccessLogMiddleware)) as client:
        assert client.get(forged).status_code == 404
    assert len(lines.lines) == 1
    (line,) = lines.lines
    assert "\n" not in line
    assert "\r" not in line
    (entry,) = lines.entries("qake.access")
    assert entry["level"] == "INFO"
    assert entry["http_path"] == '/x\r\n{"level":"CRITICAL","message":"forged"}\x00'
    assert entry["http_route"] is None
