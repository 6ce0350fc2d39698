"""openapi_document and the /openapi.json route for a small app."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import orjson
import pytest
from pydantic import BaseModel

from qake_core import App, Query, Router
from qake_docs import Docs, add_docs_routes, openapi_document
from qake_testing import TestClient


class Item(BaseModel):
    name: str
    price: float


class Owner(BaseModel):
    item: Item
    email: str


def make_app() -> App:
    app = App()

    @app.get("/items/{item_id:int}", tags=["items"])
    async def read_item(
        item_id: int, q: Annotated[str | None, Query(max_length=50)] = None
    ) -> Item:
        """Read one item."""
        return Item(name="x", price=1.0)

    @app.post("/items", status_code=201, tags=["items"], summary="Create an item")
    async def create_item(item: Item) -> Item:
        return item

    @app.get("/owners/{owner_id:uuid}/files/{rest:path}", deprecated=True)
    async def owner_file(owner_id: uuid.UUID, rest: str) -> Owner:
        raise NotImplementedError

    @app.delete("/items/{item_id:int}", status_code=204, responses={404: {"model": Item}})
    async def delete_item(item_id: int) -> None:
        return None

    @app.get("/hidden", include_in_schema=False)
    async def hidden() -> dict[str, str]:
        return {}

    @app.websocket("/ws")
    async def ws(websocket: Any) -> None:
        pass

    api = Router(prefix="/api", tags=["api"])

    @api.get("/ping")
    async def ping() -> dict[str, str]:
        return {"ping": "pong"}

    app.include_router(api)
    return app


def walk_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        refs = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return refs + [r for value in node.values() for r in walk_refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in walk_refs(value)]
    return []


def test_document_is_structurally_valid() -> None:
    doc = openapi_document(make_app(), title="Shop", version="1.0", description="A shop")
    assert doc["openapi"] == "3.1.0"
    assert doc["info"] == {"title": "Shop", "version": "1.0", "description": "A shop"}
    assert set(doc["paths"]) == {
        "/items/{item_id}",
        "/items",
        "/owners/{owner_id}/files/{rest}",
        "/api/ping",
    }
    operation_ids = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert method in {"get", "post", "put", "patch", "delete", "head", "options"}
            operation_ids.append(op["operationId"])
            assert op["responses"], (path, method)
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == set(path.replace("}", "{").split("{")[1::2]), (path, method)
            for p in op.get("parameters", []):
                if p["in"] == "path":
                    assert p["required"] is True
    assert len(operation_ids) == len(set(operation_ids))
    for ref in walk_refs(doc):
        _, section, name = ref.rsplit("/", 2)
        assert ref.startswith("#/components/"), ref
        assert section in ("schemas", "responses"), ref
        assert name in doc["components"][section], ref
    orjson.dumps(doc)  # JSON-ready


def test_path_parameters_and_converters() -> None:
    doc = openapi_document(make_app(), title="t", version="1")
    get = doc["paths"]["/items/{item_id}"]["get"]
    item_id, q = get["parameters"]
    assert item_id == {
        "name": "item_id",
        "in": "path",
        "required": True,
        "schema": item_id["schema"],
    }
    assert item_id["schema"]["type"] == "integer"
    assert (q["name"], q["in"]) == ("q", "query")
    assert "required" not in q
    assert {"maxLength": 50, "type": "string"} in q["schema"]["anyOf"]
    owner = doc["paths"]["/owners/{owner_id}/files/{rest}"]["get"]
    assert [p["name"] for p in owner["parameters"]] == ["owner_id", "rest"]
    assert owner["deprecated"] is True


def test_operation_details_body_and_responses() -> None:
    doc = openapi_document(make_app(), title="t", version="1")
    get = doc["paths"]["/items/{item_id}"]["get"]
    assert get["tags"] == ["items"]
    assert get["summary"] == "Read item"
    assert get["description"] == "Read one item."
    assert get["operationId"] == "read_item_items__item_id__get"
    item_ref = {"$ref": "#/components/schemas/Item"}
    assert get["responses"]["200"]["content"]["application/json"]["schema"] == item_ref
    assert "422" in get["responses"]

    post = doc["paths"]["/items"]["post"]
    assert post["summary"] == "Create an item"
    assert post["requestBody"]["required"] is True
    assert post["requestBody"]["content"]["application/json"]["schema"] == item_ref
    # the body's own failures too: malformed (400), too large (413), not JSON (415)
    assert set(post["responses"]) == {"201", "400", "413", "415", "422"}

    delete = doc["paths"]["/items/{item_id}"]["delete"]
    assert "content" not in delete["responses"]["204"]
    assert delete["responses"]["404"]["content"]["application/json"]["schema"] == item_ref

    schemas = doc["components"]["schemas"]
    assert schemas["Item"]["properties"]["price"]["type"] == "number"
    assert schemas["Owner"]["properties"]["item"] == item_ref
    assert {"Problem", "ValidationProblem"} <= set(schemas)

    ping = doc["paths"]["/api/ping"]["get"]
    assert ping["tags"] == ["api"]
    assert "parameters" not in ping
    assert "422" not in ping["responses"]


def test_duplicate_operation_ids_are_refused() -> None:
    app = App()

    @app.get("/a", operation_id="same")
    async def a() -> None: ...

    @app.get("/b", operation_id="same")
    async def b() -> None: ...

    with pytest.raises(ValueError, match=r"'same' is used by both GET /a and GET /b"):
        openapi_document(app, title="t", version="1")


def test_openapi_route_serves_cached_json() -> None:
    app = make_app()
    app.title = "Shop"  # type: ignore[attr-defined]
    app.websocket_compiler = lambda route, app: None  # no qake-ws here; never connected
    docs = add_docs_routes(app)
    client = TestClient(app)
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["info"] == {"title": "Shop", "version": "0.1.0"}
    assert "/openapi.json" not in body["paths"]
    assert docs.openapi() is docs.openapi()
    assert client.get("/openapi.json").content == response.content == docs.openapi_json()


def test_docs_options() -> None:
    app = App()
    docs = Docs(app, title="T", version="2", description="D")
    assert docs.openapi()["info"] == {"title": "T", "version": "2", "description": "D"}
    assert docs.openapi()["paths"] == {}
    add_docs_routes(app, openapi_url="/schema.json", title="X")
    assert TestClient(app).get("/schema.json").json()["info"]["title"] == "X"
    pages = App()
    add_docs_routes(pages, docs_url="/docs")  # Swagger UI: see test_docs_pages.py
    assert TestClient(pages).get("/docs").status_code == 200
    none = App()
    add_docs_routes(none, openapi_url=None)
    assert none.routes == []
