"""Issue 18: OpenTelemetry tracing through the standard ASGI instrumentation
(``opentelemetry-instrumentation-asgi``'s ``OpenTelemetryMiddleware``), as
docs/observability.md sets it up, spans read back from the SDK's in-memory exporter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from qakeapi import QakeAPI, WebSocket, otel_span_details
from qakeapi.testing import TestClient

pytest.importorskip("opentelemetry.sdk", reason="needs opentelemetry-sdk")
pytest.importorskip(
    "opentelemetry.instrumentation.asgi", reason="needs opentelemetry-instrumentation-asgi"
)

from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    yield memory
    memory.clear()


def traced_app(exporter: InMemorySpanExporter, **options: Any) -> QakeAPI:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = QakeAPI()
    app.add_middleware(
        OpenTelemetryMiddleware,
        tracer_provider=provider,
        default_span_details=otel_span_details,
        **options,
    )

    @app.get("/items/{item_id:int}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.get("/work")
    async def work() -> dict[str, str]:
        with provider.get_tracer("shop").start_as_current_span("load order"):
            return {"done": "yes"}

    @app.get("/boom")
    async def boom() -> dict[str, str]:
        raise RuntimeError("boom")

    @app.websocket("/echo/{room}")
    async def echo(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        await websocket.send_text(room + ":" + await websocket.receive_text())
        await websocket.close()

    return app


def server_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]


def status_code(span: ReadableSpan) -> Any:
    attributes = span.attributes or {}
    # The instrumentation's semantic-convention mode picks the name (old or stable).
    return attributes.get("http.status_code", attributes.get("http.response.status_code"))


def test_one_server_span_per_request_named_after_the_route_template(
    exporter: InMemorySpanExporter,
) -> None:
    with TestClient(traced_app(exporter)) as client:
        assert client.get("/items/7").json() == {"item_id": 7}
        assert client.get("/items/8").status_code == 200
    spans = server_spans(exporter)
    assert [s.name for s in spans] == ["GET /items/{item_id:int}"] * 2
    for span in spans:
        attributes = span.attributes or {}
        assert attributes["http.route"] == "/items/{item_id:int}"
        assert status_code(span) == 200
        assert span.status.status_code == StatusCode.UNSET
    # The send and receive events are child spans of the server span.
    children = [s for s in exporter.get_finished_spans() if s.kind != SpanKind.SERVER]
    assert children
    assert {s.parent.span_id for s in children if s.parent} <= {s.context.span_id for s in spans}


def test_an_unmatched_path_gives_the_method_alone_never_the_raw_path(
    exporter: InMemorySpanExporter,
) -> None:
    with TestClient(traced_app(exporter)) as client:
        assert client.get("/no/such/path/12345").status_code == 404
    (span,) = server_spans(exporter)
    assert span.name == "GET"
    assert "http.route" not in (span.attributes or {})
    assert status_code(span) == 404


def test_a_failing_handler_is_a_500_error_span(exporter: InMemorySpanExporter) -> None:
    with TestClient(traced_app(exporter), raise_server_exceptions=False) as client:
        assert client.get("/boom").status_code == 500
    (span,) = server_spans(exporter)
    assert span.name == "GET /boom"
    assert status_code(span) == 500
    assert span.status.status_code == StatusCode.ERROR


def test_the_handlers_own_spans_are_children_of_the_request_span(
    exporter: InMemorySpanExporter,
) -> None:
    with TestClient(traced_app(exporter)) as client:
        assert client.get("/work").json() == {"done": "yes"}
    (server,) = server_spans(exporter)
    (own,) = [s for s in exporter.get_finished_spans() if s.name == "load order"]
    assert own.parent is not None
    assert own.parent.span_id == server.context.span_id
    assert own.context.trace_id == server.context.trace_id


def test_an_incoming_traceparent_continues_the_callers_trace(
    exporter: InMemorySpanExporter,
) -> None:
    traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01"
    with TestClient(traced_app(exporter)) as client:
        client.get("/items/1", headers={"traceparent": traceparent})
    (span,) = server_spans(exporter)
    assert f"{span.context.trace_id:032x}" == TRACE_ID
    assert span.parent is not None
    assert f"{span.parent.span_id:016x}" == PARENT_ID


def test_a_websocket_connection_is_one_span_named_after_its_route(
    exporter: InMemorySpanExporter,
) -> None:
    with TestClient(traced_app(exporter)) as client, client.websocket_connect("/echo/lobby") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "lobby:hi"
    (span,) = server_spans(exporter)
    assert span.name == "/echo/{room}"
    assert (span.attributes or {})["http.route"] == "/echo/{room}"
    events = [s.name for s in exporter.get_finished_spans() if s is not span]
    assert "/echo/{room} websocket receive" in events
    assert "/echo/{room} websocket send" in events


def test_excluded_urls_are_not_traced(exporter: InMemorySpanExporter) -> None:
    with TestClient(traced_app(exporter, excluded_urls="items/9")) as client:
        client.get("/items/9")
        client.get("/items/10")
    assert [s.name for s in server_spans(exporter)] == ["GET /items/{item_id:int}"]
