"""``get_openapi``: FastAPI's function for a document built by hand."""

from __future__ import annotations

from pydantic import BaseModel

from qakeapi import QakeAPI
from qakeapi.docs import get_openapi
from tests.docs.openapi_check import checked


class Event(BaseModel):
    name: str


def make_app() -> QakeAPI:
    app = QakeAPI(title="Events", version="3")

    @app.get("/events", tags=["events"])
    async def events() -> list[Event]:
        return []

    @app.webhooks.post("/event-created")
    async def event_created(event: Event) -> None: ...

    return app


def test_fastapis_keywords_make_the_same_document_as_the_app() -> None:
    app = make_app()
    doc = checked(
        get_openapi(
            title="Events",
            version="3",
            summary="All the events.",
            description="A *description*.",
            routes=app.routes,
            webhooks=app.webhooks.routes,
            tags=[{"name": "events", "description": "Events."}],
            servers=[{"url": "https://events.example.com"}],
            terms_of_service="https://example.com/terms",
            contact={"name": "Ops", "email": "ops@example.com"},
            license_info={"name": "MIT", "identifier": "MIT"},
        )
    )
    assert doc["info"] == {
        "title": "Events",
        "summary": "All the events.",
        "version": "3",
        "description": "A *description*.",
        "termsOfService": "https://example.com/terms",
        "contact": {"name": "Ops", "email": "ops@example.com"},
        "license": {"name": "MIT", "identifier": "MIT"},
    }
    assert doc["paths"] == app.openapi()["paths"]
    assert doc["webhooks"] == app.openapi()["webhooks"]
    assert doc["tags"] == [{"name": "events", "description": "Events."}]
    assert doc["servers"] == [{"url": "https://events.example.com"}]


def test_each_call_builds_a_new_document_for_custom_additions() -> None:
    app = make_app()
    first = get_openapi(title="E", version="1", routes=app.routes)
    first["info"]["x-logo"] = {"url": "https://example.com/logo.png"}
    again = checked(get_openapi(title="E", version="1", routes=app.routes))
    assert "x-logo" not in again["info"]
    assert "webhooks" not in again
