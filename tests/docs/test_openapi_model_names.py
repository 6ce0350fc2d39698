"""Component names: the model's own name; same-named models of two modules apart by
module, the same in every process; generics and enums readable; bodies named after the
operation; user converters' schemas."""

from __future__ import annotations

import datetime
import enum
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from qakeapi import QakeAPI
from qakeapi.testing import TestClient
from tests.docs import openapi_models_a, openapi_models_b
from tests.docs.openapi_check import checked

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]


class Status(enum.Enum):
    open = "open"
    closed = "closed"


class Cat(BaseModel):
    kind: Literal["cat"]


class Dog(BaseModel):
    kind: Literal["dog"]


Pet = Annotated[Cat | Dog, Field(discriminator="kind")]


def colliding_app() -> QakeAPI:
    app = QakeAPI()

    @app.post("/a")
    async def a(item: openapi_models_a.Item) -> openapi_models_a.Item:
        return item

    @app.post("/b")
    async def b(item: openapi_models_b.Item) -> openapi_models_b.Item:
        return item

    return app


def schema_ref(doc: dict[str, object], path: str) -> str:
    op = doc["paths"][path]["post"]  # type: ignore[index]
    ref: str = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[1]


def test_same_named_models_of_two_modules_get_module_qualified_names() -> None:
    doc = checked(colliding_app().openapi())
    a, b = schema_ref(doc, "/a"), schema_ref(doc, "/b")
    assert a != b
    assert a.endswith("openapi_models_a__Item")
    assert b.endswith("openapi_models_b__Item")
    schemas = doc["components"]["schemas"]
    assert "name" in schemas[a]["properties"]
    assert "sku" in schemas[b]["properties"]


def test_collision_names_are_the_same_in_another_process() -> None:
    code = (
        "from tests.docs.test_openapi_model_names import colliding_app, schema_ref; "
        "doc = colliding_app().openapi(); print(schema_ref(doc, '/a'), schema_ref(doc, '/b'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    doc = colliding_app().openapi()
    assert out == [schema_ref(doc, "/a"), schema_ref(doc, "/b")]


def test_generics_enums_and_unions_are_named_readably() -> None:
    app = QakeAPI()

    @app.get("/pets")
    async def pets(status: Status = Status.open) -> Page[Pet]:
        return Page[Pet](items=[])

    @app.get("/statuses")
    async def statuses() -> Page[Status]:
        return Page[Status](items=[])

    doc = checked(app.openapi())
    schemas = doc["components"]["schemas"]
    assert set(schemas) >= {"Cat", "Dog", "Status", "Page_Cat_Dog_", "Page_Status_"}
    ok = doc["paths"]["/pets"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {"$ref": "#/components/schemas/Page_Cat_Dog_"}
    items = schemas["Page_Cat_Dog_"]["properties"]["items"]["items"]
    assert items["discriminator"]["mapping"] == {
        "cat": "#/components/schemas/Cat",
        "dog": "#/components/schemas/Dog",
    }
    status = doc["paths"]["/pets"]["get"]["parameters"][0]
    assert status["schema"]["$ref"] == "#/components/schemas/Status"
    assert status["schema"]["default"] == "open"
    assert schemas["Status"]["enum"] == ["open", "closed"]


DATE_SCHEMA = {"type": "string", "format": "date"}


def test_a_user_converter_is_documented_with_its_schema() -> None:
    app = QakeAPI()
    app.register_converter(
        "isodate",
        regex=r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
        parse=datetime.date.fromisoformat,
        python_type=datetime.date,
        json_schema=DATE_SCHEMA,
    )

    @app.get("/days/{day:isodate}")
    async def read_day(day: datetime.date) -> str:
        return day.isoformat()

    doc = checked(app.openapi())
    assert doc["paths"]["/days/{day}"]["get"]["parameters"] == [
        {"name": "day", "in": "path", "required": True, "schema": DATE_SCHEMA}
    ]
    with TestClient(app) as client:
        assert client.get("/days/2026-11-30").json() == "2026-11-30"
        assert client.get("/days/today").status_code == 404
