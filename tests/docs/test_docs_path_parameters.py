"""Path parameters in the OpenAPI document: the router's parsed template and what each
converter (built-in or user-registered) declares."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from qake_core import App, Path
from qake_docs import openapi_document

DATE_SCHEMA = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}


def make_app() -> App:
    app = App()
    app.register_converter(
        "date",
        regex=r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
        parse=datetime.date.fromisoformat,
        python_type=datetime.date,
        json_schema=DATE_SCHEMA,
    )
    app.register_converter("slug", regex="[a-z0-9-]+")

    @app.get("/days/{day:date}")
    async def read_day(day: datetime.date) -> str:
        return day.isoformat()

    @app.get("/since/{day:date}")
    async def since(day: Annotated[datetime.date, Path(description="first day")]) -> str:
        return day.isoformat()

    @app.get("/posts/{slug:slug}/{n:int}")
    async def post() -> str:  # takes neither parameter: the converters describe them
        return "post"

    return app


def path_parameters(doc: dict[str, Any], path: str) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = doc["paths"][path]["get"]["parameters"]
    return parameters


def test_a_user_converter_documents_its_own_schema() -> None:
    doc = openapi_document(make_app(), title="t", version="1")
    assert path_parameters(doc, "/days/{day}") == [
        {"name": "day", "in": "path", "required": True, "schema": DATE_SCHEMA}
    ]
    since = path_parameters(doc, "/since/{day}")
    assert since == [
        {
            "name": "day",
            "in": "path",
            "required": True,
            "description": "first day",
            "schema": DATE_SCHEMA,
        }
    ]
    # The router's date reaches the handler as is: no 422 can come from it.
    assert set(doc["paths"]["/days/{day}"]["get"]["responses"]) == {"200"}


def test_undeclared_path_parameters_are_described_by_their_converters() -> None:
    doc = openapi_document(make_app(), title="t", version="1")
    assert path_parameters(doc, "/posts/{slug}/{n}") == [
        {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "n", "in": "path", "required": True, "schema": {"type": "integer"}},
    ]
    assert doc["paths"]["/posts/{slug}/{n}"]["get"]["operationId"] == "post_posts__slug___n__get"


def test_the_document_does_not_share_the_converters_schema() -> None:
    app = make_app()
    doc = openapi_document(app, title="t", version="1")
    path_parameters(doc, "/days/{day}")[0]["schema"]["format"] = "changed"
    assert app.routes[0].routing.params["day"].json_schema == DATE_SCHEMA
