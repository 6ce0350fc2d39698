"""QakeAPI's document options: summary, servers, root_path, openapi_tags, webhooks and
separate_input_output_schemas, as FastAPI users set them."""

from __future__ import annotations

from pydantic import BaseModel, computed_field

from qakeapi import QakeAPI, Router
from qakeapi.testing import TestClient
from tests.docs.openapi_check import checked


class Subscription(BaseModel):
    username: str
    monthly_fee: float


def test_info_summary_servers_and_tags_in_their_order() -> None:
    tags = [
        {"name": "users", "description": "Operations with users."},
        {
            "name": "items",
            "description": "Manage items.",
            "externalDocs": {"url": "https://example.com/items"},
        },
    ]
    servers = [
        {"url": "https://stag.example.com", "description": "Staging"},
        {"url": "https://prod.example.com", "description": "Production"},
    ]
    app = QakeAPI(
        title="Shop", summary="A short one.", servers=servers, openapi_tags=tags, version="2"
    )

    @app.get("/items", tags=["items"])
    async def items() -> list[str]:
        return []

    doc = checked(app.openapi())
    assert doc["info"] == {"title": "Shop", "summary": "A short one.", "version": "2"}
    assert doc["servers"] == servers
    assert doc["tags"] == tags
    assert [t["name"] for t in doc["tags"]] == ["users", "items"]
    tags[0]["description"] = "changed after"
    assert doc["tags"][0]["description"] == "Operations with users."


def test_no_servers_tags_or_summary_unless_given() -> None:
    doc = checked(QakeAPI().openapi())
    assert "servers" not in doc
    assert "tags" not in doc
    assert "summary" not in doc["info"]
    assert "webhooks" not in doc


def test_root_path_is_listed_first_in_servers() -> None:
    app = QakeAPI(root_path="/api/v1", servers=[{"url": "https://example.com"}])
    assert checked(app.openapi())["servers"] == [
        {"url": "/api/v1"},
        {"url": "https://example.com"},
    ]
    listed = QakeAPI(root_path="/api/v1/", servers=[{"url": "/api/v1"}])
    assert checked(listed.openapi())["servers"] == [{"url": "/api/v1"}]


def test_webhooks_are_documented_and_not_served() -> None:
    app = QakeAPI()

    @app.webhooks.post("/new-subscription")
    async def new_subscription(body: Subscription) -> None:
        """When a user subscribes, we send this request to your URL."""

    with TestClient(app) as client:
        doc = checked(client.get("/openapi.json").json())
        assert client.post("/new-subscription", json={}).status_code == 404
    assert doc["paths"] == {}
    hook = doc["webhooks"]["new-subscription"]["post"]
    assert hook["description"] == "When a user subscribes, we send this request to your URL."
    ref = {"$ref": "#/components/schemas/Subscription"}
    assert hook["requestBody"]["content"]["application/json"]["schema"] == ref
    assert hook["operationId"] == "new_subscription_new_subscription_post"


def test_webhooks_can_be_a_router_given_to_the_app() -> None:
    hooks = Router()

    @hooks.put("/renewal")
    async def renewal(body: Subscription) -> None: ...

    doc = checked(QakeAPI(webhooks=hooks).openapi())
    assert list(doc["webhooks"]) == ["renewal"]


class Bill(BaseModel):
    amount: int
    note: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cents(self) -> int:
        return self.amount * 100


class Tag(BaseModel):
    name: str


def bills_app(**options: object) -> QakeAPI:
    app = QakeAPI(**options)  # type: ignore[arg-type]

    @app.post("/bills")
    async def create(bill: Bill) -> Bill:
        return bill

    @app.post("/tags")
    async def tag(tag: Tag) -> Tag:
        return tag

    return app


def test_input_and_output_schemas_apart_only_when_they_differ() -> None:
    doc = checked(bills_app().openapi())
    schemas = doc["components"]["schemas"]
    assert {"Bill-Input", "Bill-Output", "Tag"} <= set(schemas)
    assert "Bill" not in schemas
    assert "Tag-Input" not in schemas
    assert "cents" in schemas["Bill-Output"]["properties"]
    assert schemas["Bill-Output"]["required"] == ["amount", "cents"]
    assert "cents" not in schemas["Bill-Input"]["properties"]
    op = doc["paths"]["/bills"]["post"]
    body = op["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Bill-Input"}
    answer = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/Bill-Output"}


def test_separate_input_output_schemas_false_merges_them() -> None:
    doc = checked(bills_app(separate_input_output_schemas=False).openapi())
    schemas = doc["components"]["schemas"]
    assert {"Bill", "Tag"} <= set(schemas)
    assert not any(name.endswith(("-Input", "-Output")) for name in schemas)
    answer = doc["paths"]["/bills"]["post"]["responses"]["200"]["content"]["application/json"]
    assert answer["schema"] == {"$ref": "#/components/schemas/Bill"}
