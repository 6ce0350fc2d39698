"""Operation details: summary/description, deprecated, hidden routes, operationIds,
openapi_extra, openapi_examples, callbacks, declared responses, response classes and
the problem+json error responses."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from qake_core import App
from qake_docs import openapi_document
from qakeapi import (
    APIRoute,
    Body,
    Depends,
    File,
    Form,
    Header,
    HTMLResponse,
    PlainTextResponse,
    QakeAPI,
    Query,
    Request,
    Router,
    Security,
    UploadFile,
)
from qakeapi.security import OAuth2PasswordBearer
from qakeapi.testing import TestClient
from tests.docs.openapi_check import checked


class Item(BaseModel):
    name: str
    price: float


class Invoice(BaseModel):
    id: str
    total: float


def op(doc: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    operation: dict[str, Any] = doc["paths"][path][method]
    return operation


def test_summary_and_description_from_decorator_or_docstring() -> None:
    app = QakeAPI()

    @app.get("/a")
    async def read_things() -> None:
        """Read things.

        With **markdown**.
        \f
        :param internal: for the code's readers only.
        """

    @app.get("/b", summary="Bees", description="Explicit.\fhidden too")
    async def b() -> None:
        """Not used."""

    @app.get("/c")
    async def c() -> None: ...

    doc = checked(app.openapi())
    a = op(doc, "/a")
    assert a["summary"] == "Read things"
    assert a["description"] == "Read things.\n\nWith **markdown**."
    assert (op(doc, "/b")["summary"], op(doc, "/b")["description"]) == ("Bees", "Explicit.")
    assert "description" not in op(doc, "/c")


def test_deprecated_and_hidden_routes() -> None:
    app = QakeAPI()
    old = Router(prefix="/old", deprecated=True)

    @old.get("/x")
    async def x() -> None: ...

    @app.get("/new")
    async def new() -> None: ...

    @app.get("/gone", deprecated=True)
    async def gone() -> None: ...

    @app.get("/secret", include_in_schema=False)
    async def secret() -> str:
        return "s"

    app.include_router(old)
    doc = checked(app.openapi())
    assert set(doc["paths"]) == {"/old/x", "/new", "/gone"}
    assert op(doc, "/old/x")["deprecated"] is True
    assert op(doc, "/gone")["deprecated"] is True
    assert "deprecated" not in op(doc, "/new")
    with TestClient(app) as client:
        assert client.get("/secret").status_code == 200  # hidden, still served


def test_default_operation_ids_are_fastapis() -> None:
    app = QakeAPI()

    @app.api_route("/items/{item_id}", methods=["GET", "PUT"])
    async def item(item_id: int) -> None: ...

    doc = checked(app.openapi())
    assert op(doc, "/items/{item_id}")["operationId"] == "item_items__item_id__get"
    assert op(doc, "/items/{item_id}", "put")["operationId"] == "item_items__item_id__put"


def tag_and_name(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def upper_name(route: APIRoute) -> str:
    return route.name.upper()


def test_generate_unique_id_function_at_app_router_and_route_level() -> None:
    app = QakeAPI(generate_unique_id_function=tag_and_name)
    users = Router(prefix="/users", tags=["users"])
    plain = Router(prefix="/plain", generate_unique_id_function=upper_name)

    @users.get("")
    async def list_users() -> None: ...

    @users.post("", generate_unique_id_function=lambda route: "makeUser")
    async def create_user() -> None: ...

    @plain.get("")
    async def listing() -> None: ...

    @app.get("/health", operation_id="healthCheck")
    async def health() -> None: ...

    @app.api_route("/both", methods=["GET", "POST"])
    async def both() -> None: ...

    app.include_router(users)
    app.include_router(plain)
    included = Router()

    @included.get("/given")
    async def given() -> None: ...

    app.include_router(included, generate_unique_id_function=lambda route: "fromInclude")
    doc = checked(app.openapi())
    assert op(doc, "/users")["operationId"] == "users-list_users"
    assert op(doc, "/users", "post")["operationId"] == "makeUser"
    assert op(doc, "/plain")["operationId"] == "LISTING"
    assert op(doc, "/health")["operationId"] == "healthCheck"
    assert op(doc, "/both")["operationId"] == "both_get"
    assert op(doc, "/both", "post")["operationId"] == "both_post"
    assert op(doc, "/given")["operationId"] == "fromInclude"


def test_duplicate_operation_ids_are_refused_naming_both_and_the_fix() -> None:
    app = QakeAPI(generate_unique_id_function=lambda route: "same")

    @app.get("/a")
    async def a() -> None: ...

    @app.get("/b")
    async def b() -> None: ...

    with pytest.raises(
        ValueError, match=r"'same' is used by both GET /a and GET /b.*operation_id="
    ):
        app.openapi()


def test_openapi_extra_is_merged_into_the_operation() -> None:
    app = QakeAPI()
    extra = {
        "x-aperture-labs-portal": "blue",
        "responses": {"200": {"description": "The raw payload, echoed"}},
        "requestBody": {
            "content": {"application/x-yaml": {"schema": {"type": "object"}}},
            "required": True,
        },
    }

    @app.post("/items", openapi_extra=extra)
    async def raw(request: Request) -> dict[str, str]:
        return {}

    doc = checked(app.openapi())
    operation = op(doc, "/items", "post")
    assert operation["x-aperture-labs-portal"] == "blue"
    assert operation["requestBody"] == extra["requestBody"]
    assert operation["responses"]["200"]["description"] == "The raw payload, echoed"
    assert "content" in operation["responses"]["200"]  # merged, not replaced
    operation["requestBody"]["required"] = False
    assert extra["requestBody"]["required"] is True


EXAMPLES = {
    "normal": {"summary": "A normal example", "value": {"name": "Foo", "price": 35.4}},
    "invalid": {"summary": "Invalid data is rejected", "value": {"name": "Baz", "price": "x"}},
}


Q_EXAMPLES = {"short": {"value": "ab"}, "long": {"summary": "Long", "value": "abcdef"}}


def test_openapi_examples_on_parameters_and_bodies() -> None:
    app = QakeAPI()

    @app.put("/items/{item_id}")
    async def update(
        item_id: int,
        item: Annotated[Item, Body(openapi_examples=EXAMPLES)],
        q: Annotated[str | None, Query(openapi_examples=Q_EXAMPLES)] = None,
        x_trace: Annotated[str | None, Header(examples=["t-1"])] = None,
    ) -> Item:
        return item

    doc = checked(app.openapi())
    operation = op(doc, "/items/{item_id}", "put")
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["q"]["examples"] == Q_EXAMPLES
    assert "examples" not in params["q"]["schema"]
    assert params["x-trace"]["schema"]["anyOf"][0] == {"type": "string"}
    assert "examples" not in params["x-trace"]
    media = operation["requestBody"]["content"]["application/json"]
    assert media["examples"] == EXAMPLES
    assert media["schema"] == {"$ref": "#/components/schemas/Item"}


def test_callbacks_document_a_routers_routes_under_the_operation() -> None:
    callbacks = Router()

    @callbacks.post("/{callback_url}/invoices/{invoice_id}")
    async def invoice_notification(body: Invoice) -> None:
        """Sent when the invoice is paid."""

    app = QakeAPI()

    @app.post("/invoices", callbacks=callbacks.routes)
    async def create_invoice(invoice: Invoice, callback_url: str | None = None) -> Invoice:
        return invoice

    router = Router(callbacks=[callbacks])

    @router.post("/orders")
    async def create_order(invoice: Invoice) -> Invoice:
        return invoice

    app.include_router(router)
    doc = checked(app.openapi())
    path = "/{callback_url}/invoices/{invoice_id}"
    for where in ("/invoices", "/orders"):
        documented = op(doc, where, "post")["callbacks"]
        assert list(documented) == ["invoice_notification"]
        sent = documented["invoice_notification"][path]["post"]
        assert sent["description"] == "Sent when the invoice is paid."
        ref = {"$ref": "#/components/schemas/Invoice"}
        assert sent["requestBody"]["content"]["application/json"]["schema"] == ref
    assert path not in doc["paths"]
    with TestClient(app) as client:
        assert client.post("/x/invoices/1", json={"id": "1", "total": 1}).status_code == 404


def test_callbacks_at_an_openapi_runtime_expression() -> None:
    events = Router()

    @events.post("/")
    async def invoice_paid(body: Invoice) -> None: ...

    @events.put("/")
    async def invoice_paid_again(body: Invoice) -> None: ...

    app = QakeAPI()
    expression = "{$request.body#/callback_url}/invoices/{$request.body#/id}"

    @app.post("/invoices", callbacks={expression: events})
    async def create_invoice(invoice: Invoice) -> Invoice:
        return invoice

    doc = checked(app.openapi())
    documented = op(doc, "/invoices", "post")["callbacks"]
    assert list(documented) == ["invoice_paid", "invoice_paid_again"]
    assert list(documented["invoice_paid"]) == [expression]
    assert list(documented["invoice_paid"][expression]) == ["post"]
    assert list(documented["invoice_paid_again"][expression]) == ["put"]


def test_declared_responses_with_headers_examples_and_content_types() -> None:
    app = QakeAPI()

    @app.get(
        "/items/{item_id}/image",
        responses={
            200: {
                "content": {"image/png": {}},
                "description": "The item, or its picture.",
                "headers": {
                    "X-Rate-Left": {"schema": {"type": "integer"}},
                    "ETag": {"description": "The item's version"},
                },
            },
            404: {
                "model": Item,
                "description": "Not found",
                "content": {"application/json": {"example": {"name": "none", "price": 0}}},
            },
            "default": {"description": "Anything else"},
        },
    )
    async def image(item_id: int) -> Item:
        return Item(name="x", price=1)

    doc = checked(app.openapi())
    responses = op(doc, "/items/{item_id}/image")["responses"]
    ok = responses["200"]
    assert ok["description"] == "The item, or its picture."
    assert ok["headers"] == {
        "X-Rate-Left": {"schema": {"type": "integer"}},
        "ETag": {"description": "The item's version", "schema": {"type": "string"}},
    }
    assert ok["content"]["image/png"] == {}
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Item"}
    missing = responses["404"]["content"]["application/json"]
    assert missing == {
        "example": {"name": "none", "price": 0},
        "schema": {"$ref": "#/components/schemas/Item"},
    }
    assert responses["default"] == {"description": "Anything else"}


def test_response_class_sets_the_content_type() -> None:
    app = QakeAPI()

    @app.get("/page", response_class=HTMLResponse)
    async def page() -> str:
        return "<p>hi</p>"

    @app.get("/text", response_class=PlainTextResponse)
    async def text() -> str:
        return "hi"

    doc = checked(app.openapi())
    assert op(doc, "/page")["responses"]["200"]["content"] == {
        "text/html": {"schema": {"type": "string"}}
    }
    assert list(op(doc, "/text")["responses"]["200"]["content"]) == ["text/plain"]
    with TestClient(app) as client:
        assert client.get("/page").headers["content-type"].startswith("text/html")


oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"items:read": "Read items"})


def test_problem_responses_are_components_listed_where_they_can_happen() -> None:
    app = QakeAPI()

    @app.get("/open")
    async def open_route() -> None: ...

    @app.get("/search")
    async def search(q: str) -> None: ...

    @app.get("/me")
    async def me(token: Annotated[str, Depends(oauth2)]) -> None: ...

    @app.get("/items", produces=["application/json"])
    async def items(
        token: Annotated[str, Security(oauth2, scopes=["items:read"])],
    ) -> None: ...

    doc = checked(app.openapi())
    assert set(op(doc, "/open")["responses"]) == {"200"}
    assert op(doc, "/search")["responses"]["422"] == {
        "$ref": "#/components/responses/ValidationError"
    }
    assert set(op(doc, "/me")["responses"]) == {"200", "401"}
    assert set(op(doc, "/items")["responses"]) == {"200", "401", "403", "406"}
    components = doc["components"]["responses"]
    assert set(components) == {"Unauthorized", "Forbidden", "NotAcceptable", "ValidationError"}
    schema = components["ValidationError"]["content"]["application/problem+json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ValidationProblem"}
    with TestClient(app) as client:
        assert client.get("/search").status_code == 422
        assert client.get("/me").status_code == 401
        assert client.get("/items", headers={"accept": "text/csv"}).status_code == 406


def test_no_problem_components_when_no_route_can_answer_them() -> None:
    app = QakeAPI()

    @app.get("/open")
    async def open_route() -> None: ...

    doc = checked(app.openapi())
    assert "components" not in doc


class Problem(BaseModel):
    code: str


def test_a_users_problem_model_keeps_its_name() -> None:
    app = QakeAPI()

    @app.post("/report")
    async def report(problem: Problem) -> Problem:
        return problem

    doc = checked(app.openapi())
    schemas = doc["components"]["schemas"]
    assert schemas["Problem"]["properties"] == {"code": {"title": "Code", "type": "string"}}
    assert schemas["ValidationProblem"]["allOf"] == [{"$ref": "#/components/schemas/QakeProblem"}]
    assert "type" in schemas["QakeProblem"]["properties"]
    error = doc["components"]["responses"]["ValidationError"]["content"]
    schema = error["application/problem+json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ValidationProblem"}


def test_body_failures_and_a_dependencys_declared_answers_are_listed() -> None:
    class Limited:
        openapi_responses = {
            429: ("Too many requests", {"Retry-After": {"schema": {"type": "integer"}}})
        }

        def __call__(self) -> None:
            return None

    app = App()

    @app.post("/upload", dependencies=[Depends(Limited())])
    async def upload(file: UploadFile = File(...)) -> dict[str, int]:
        return {"size": 0}

    @app.post("/login")
    async def login(name: str = Form(...)) -> dict[str, str]:
        return {"name": name}

    @app.get("/plain")
    async def plain() -> dict[str, str]:
        return {}

    doc = checked(openapi_document(app, title="t", version="1"))
    upload_responses = doc["paths"]["/upload"]["post"]["responses"]
    assert set(upload_responses) == {"200", "400", "413", "422", "429", "431"}
    assert upload_responses["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    assert upload_responses["400"] == {"$ref": "#/components/responses/BadRequest"}
    assert set(doc["paths"]["/login"]["post"]["responses"]) == {"200", "400", "413", "422"}
    assert set(doc["paths"]["/plain"]["get"]["responses"]) == {"200"}
