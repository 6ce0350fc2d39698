"""The 200-route app's document validates and names its schemas the same in every process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson

from tests.docs.openapi_check import checked
from tests.docs.openapi_large_app import build_app

ROOT = Path(__file__).resolve().parents[2]
_DUMP = "import orjson, sys; from tests.docs.openapi_large_app import build_app; " + (
    "sys.stdout.buffer.write(orjson.dumps(build_app().openapi(), option=orjson.OPT_SORT_KEYS))"
)


def test_the_large_document_validates() -> None:
    doc = checked(build_app().openapi())
    operations = [op for item in doc["paths"].values() for op in item.values()]
    assert len(operations) == 200
    assert len({op["operationId"] for op in operations}) == 200
    schemas = doc["components"]["schemas"]
    for name in ("Address", "Owner", "Color", "Size", "Cat", "Dog", "Page_Item_"):
        assert name in schemas, sorted(schemas)
    assert all("qake" not in name for name in schemas), sorted(schemas)
    assert set(doc["components"]["securitySchemes"]) == {
        "OAuth2PasswordBearer",
        "APIKeyHeader",
        "HTTPBasic",
    }


def test_parameter_models_aliases_and_bodies_as_the_app_reads_them() -> None:
    doc = checked(build_app().openapi())
    listing = doc["paths"]["/r0/items"]["get"]
    names = [(p["in"], p["name"]) for p in listing["parameters"]]
    assert names == [
        ("query", "limit"),
        ("query", "order_by"),
        ("query", "color"),
        ("header", "x-request-id"),
    ]
    search = {p["name"]: p for p in doc["paths"]["/r0/search"]["get"]["parameters"]}
    assert search["query"]["required"] is True
    assert search["query"]["schema"]["minLength"] == 2
    pet = doc["paths"]["/r0/items/{item_id}/pet"]["put"]["requestBody"]["content"]
    body = doc["components"]["schemas"][pet["application/json"]["schema"]["$ref"].split("/")[-1]]
    assert body["properties"]["pet"]["discriminator"]["propertyName"] == "kind"
    upload = doc["paths"]["/r0/upload"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
    login = doc["paths"]["/r0/login"]["post"]["requestBody"]["content"]
    assert list(login) == ["application/x-www-form-urlencoded"]
    create = doc["paths"]["/r0/items"]["post"]
    assert create["security"] == [{"OAuth2PasswordBearer": ["write"]}]
    assert set(create["responses"]) == {"201", "400", "401", "403", "413", "415", "422"}


def test_schema_names_are_identical_in_two_processes() -> None:
    runs = [
        subprocess.run(
            [sys.executable, "-c", _DUMP], cwd=ROOT, capture_output=True, check=True
        ).stdout
        for _ in range(2)
    ]
    first, second = (json.loads(run) for run in runs)
    assert first["components"]["schemas"].keys() == second["components"]["schemas"].keys()
    assert runs[0] == runs[1]
    here = orjson.dumps(build_app().openapi(), option=orjson.OPT_SORT_KEYS)
    assert here == runs[0]
