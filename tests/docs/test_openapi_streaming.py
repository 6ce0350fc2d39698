"""Streaming routes in the OpenAPI document: each item's schema under ``x-itemSchema``
(JSON Lines, server-sent events), the raw stream's media type; the document stays a
valid OpenAPI 3.1 one."""

from collections.abc import AsyncIterable, Iterator
from typing import Any

from pydantic import BaseModel

from qake_core import App, EventSourceResponse, PlainTextResponse, ServerSentEvent
from qake_docs import openapi_document
from tests.docs.openapi_check import checked


class Item(BaseModel):
    name: str
    price: float


def streaming_app() -> App:
    app = App()

    @app.get("/items")
    async def items() -> AsyncIterable[Item]:
        yield Item(name="a", price=1)

    @app.get("/events", response_class=EventSourceResponse)
    async def events() -> AsyncIterable[Item]:
        yield Item(name="a", price=1)

    @app.get("/own-events", response_class=EventSourceResponse)
    async def own_events() -> AsyncIterable[ServerSentEvent]:
        yield ServerSentEvent(data={"any": "json"}, event="entry", id="1")

    @app.get("/numbers")
    def numbers() -> Iterator[int]:
        yield 1

    @app.get("/anything")
    async def anything():  # type: ignore[no-untyped-def]
        yield {"a": 1}

    @app.get("/text", response_class=PlainTextResponse)
    async def text() -> AsyncIterable[str]:
        yield "t"

    return app


def response_content(doc: dict[str, Any], path: str) -> dict[str, Any]:
    content: dict[str, Any] = doc["paths"][path]["get"]["responses"]["200"]["content"]
    return content


def test_streams_are_documented_by_their_items() -> None:
    doc = checked(openapi_document(streaming_app(), title="t", version="1"))
    item = {"$ref": "#/components/schemas/Item"}
    assert response_content(doc, "/items") == {"application/jsonl": {"x-itemSchema": item}}
    event = response_content(doc, "/events")["text/event-stream"]["x-itemSchema"]
    assert event["properties"]["data"] == {
        "type": "string",
        "contentMediaType": "application/json",
        "contentSchema": item,
    }
    assert event["required"] == ["data"]
    # Events made by the handler: their data is whatever it put there, not an event.
    own = response_content(doc, "/own-events")["text/event-stream"]["x-itemSchema"]
    assert own["properties"]["data"] == {"type": "string"}
    assert set(own["properties"]) == {"data", "event", "id", "retry"}
    assert "ServerSentEvent" not in doc["components"]["schemas"]
    assert response_content(doc, "/numbers") == {
        "application/jsonl": {"x-itemSchema": {"type": "integer"}}
    }
    assert response_content(doc, "/anything") == {"application/jsonl": {"x-itemSchema": {}}}
    assert response_content(doc, "/text") == {"text/plain": {}}
    assert set(doc["components"]["schemas"]) >= {"Item"}
