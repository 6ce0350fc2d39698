"""Issue 12 item 21: readable, stable names for the body models qake-core builds, and a
422 response only on operations that can answer one."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from qake_core import App, Depends, File, Form, Path, Query
from qake_core import Body as BodyParam
from qake_docs import openapi_document
from qake_testing import TestClient


class Item(BaseModel):
    name: str


class Body(BaseModel):
    """A user's model that happens to be named like qake-core's body models."""

    text: str


def schemas_of(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["components"]["schemas"]


def body_ref(doc: dict[str, Any], path: str, media: str, method: str = "post") -> str:
    schema = doc["paths"][path][method]["requestBody"]["content"][media]["schema"]
    return str(schema["$ref"]).rsplit("/", 1)[1]


# -- names ----------------------------------------------------------------------------


def form_app(*, extra_first: bool = False) -> App:
    app = App()
    if extra_first:

        @app.post("/first")
        async def first(a: Annotated[str, Form()]) -> None: ...

    @app.post("/login")
    async def login(username: Annotated[str, Form()], password: Annotated[str, Form()]) -> None:
        return None

    @app.post("/upload")
    async def upload(
        file: Annotated[bytes, File()], note: Annotated[str, Form(max_length=20)] = ""
    ) -> None:
        return None

    @app.post("/pair")
    async def pair(left: Item, right: Item) -> None:
        return None

    @app.post("/embedded")
    async def embedded(item: Annotated[Item, BodyParam(embed=True)]) -> None:
        return None

    @app.post("/note")
    async def note(body: Body) -> None:
        return None

    return app


def test_form_and_embedded_bodies_are_named_after_their_operation() -> None:
    doc = openapi_document(form_app(), title="t", version="1")
    login = doc["paths"]["/login"]["post"]
    assert login["operationId"] == "login_login_post"
    name = body_ref(doc, "/login", "application/x-www-form-urlencoded")
    assert name == "Body_login_login_post"
    login_schema = schemas_of(doc)[name]
    assert login_schema["title"] == "Body_login_login_post"
    assert login_schema["required"] == ["username", "password"]
    assert set(login_schema["properties"]) == {"username", "password"}

    assert body_ref(doc, "/upload", "multipart/form-data") == "Body_upload_upload_post"
    upload = schemas_of(doc)["Body_upload_upload_post"]
    assert upload["properties"]["file"] == {"format": "binary", "title": "File", "type": "string"}
    assert upload["properties"]["note"]["maxLength"] == 20

    assert body_ref(doc, "/pair", "application/json") == "Body_pair_pair_post"
    assert body_ref(doc, "/embedded", "application/json") == "Body_embedded_embedded_post"
    pair = schemas_of(doc)["Body_pair_pair_post"]
    assert pair["properties"]["left"] == {"$ref": "#/components/schemas/Item"}


def test_no_internal_names_and_a_users_body_model_keeps_its_name() -> None:
    doc = openapi_document(form_app(), title="t", version="1")
    names = set(schemas_of(doc))
    for name in names:
        assert "qake" not in name, name
        assert "__" not in name, name
    # The user's own model named "Body" is not pushed to a module-qualified name by the
    # body models qake-core builds (all of one class name).
    assert body_ref(doc, "/note", "application/json") == "Body"
    assert schemas_of(doc)["Body"]["properties"] == {"text": {"title": "Text", "type": "string"}}
    assert names == {
        "Body",
        "Body_embedded_embedded_post",
        "Body_login_login_post",
        "Body_pair_pair_post",
        "Body_upload_upload_post",
        "Item",
        "Problem",
        "ValidationProblem",
    }


def test_names_are_stable() -> None:
    once = openapi_document(form_app(), title="t", version="1")
    again = openapi_document(form_app(), title="t", version="1")
    assert once == again
    # Another form route registered earlier does not rename this one's body.
    shifted = openapi_document(form_app(extra_first=True), title="t", version="1")
    assert body_ref(shifted, "/first", "application/x-www-form-urlencoded") == (
        "Body_first_first_post"
    )
    for path, media in [
        ("/login", "application/x-www-form-urlencoded"),
        ("/upload", "multipart/form-data"),
    ]:
        assert body_ref(shifted, path, media) == body_ref(once, path, media)
        name = body_ref(once, path, media)
        assert schemas_of(shifted)[name] == schemas_of(once)[name]


def test_an_explicit_operation_id_names_the_body() -> None:
    app = App()

    @app.post("/token", operation_id="issueToken")
    async def token(grant: Annotated[str, Form()]) -> None: ...

    doc = openapi_document(app, title="t", version="1")
    assert body_ref(doc, "/token", "application/x-www-form-urlencoded") == "Body_issueToken"


def test_the_body_still_validates_as_documented() -> None:
    with TestClient(form_app()) as client:
        assert client.post("/login", data={"username": "u", "password": "p"}).status_code == 200
        missing = client.post("/login", data={"username": "u"})
    assert missing.status_code == 422
    assert [e["loc"] for e in missing.json()["errors"]] == [["body", "password"]]


# -- 422 ------------------------------------------------------------------------------


def positive(n: Annotated[int, Query()] = 1) -> int:
    return n


def status_app() -> App:
    app = App()

    @app.get("/ping")
    async def ping() -> None: ...

    @app.get("/items/{item_id:int}")
    async def item(item_id: int) -> None: ...

    @app.get("/prices/{price:float}")
    async def price(price: float) -> None: ...

    @app.get("/users/{user_id:uuid}/files/{rest:path}")
    async def user_file(user_id: uuid.UUID, rest: str) -> None: ...

    @app.get("/names/{name}")
    async def named(name: str) -> None: ...

    @app.get("/described/{item_id:int}")
    async def described(item_id: Annotated[int, Path(description="the item")]) -> None: ...

    @app.get("/template-only/{thing}")
    async def template_only() -> None: ...

    @app.get("/bounded/{item_id:int}")
    async def bounded(item_id: Annotated[int, Path(gt=0)]) -> None: ...

    @app.get("/numbers/{n}")
    async def numbers(n: int) -> None: ...

    @app.get("/search")
    async def search(q: str) -> None: ...

    @app.get("/dep/{item_id:int}")
    async def dep(item_id: int, n: Annotated[int, Depends(positive)]) -> None: ...

    @app.post("/items")
    async def create(item: Item) -> None: ...

    return app


#: path → (documents 422, a request whose input is refused, the status it gets)
CASES: dict[str, tuple[bool, str, int]] = {
    "/ping": (False, "/ping", 200),
    "/items/{item_id}": (False, "/items/abc", 404),
    "/prices/{price}": (False, "/prices/cheap", 404),
    "/users/{user_id}/files/{rest}": (False, "/users/not-a-uuid/files/a/b", 404),
    "/names/{name}": (False, "/names/x", 200),
    "/described/{item_id}": (False, "/described/abc", 404),
    "/template-only/{thing}": (False, "/template-only/x", 200),
    "/bounded/{item_id}": (True, "/bounded/0", 422),
    "/numbers/{n}": (True, "/numbers/abc", 422),
    "/search": (True, "/search", 422),
    "/dep/{item_id}": (True, "/dep/1?n=abc", 422),
}


@pytest.mark.parametrize("path", CASES)
def test_422_is_listed_exactly_when_the_route_can_answer_it(path: str) -> None:
    app = status_app()
    doc = openapi_document(app, title="t", version="1")
    documented, request, status = CASES[path]
    responses = doc["paths"][path]["get"]["responses"]
    assert ("422" in responses) is documented, sorted(responses)
    # What the document says is what the app does with input it refuses.
    with TestClient(app) as client:
        assert client.get(request).status_code == status


def test_a_body_can_fail_validation() -> None:
    app = status_app()
    doc = openapi_document(app, title="t", version="1")
    assert "422" in doc["paths"]["/items"]["post"]["responses"]
    with TestClient(app) as client:
        assert client.post("/items", json={}).status_code == 422


def test_no_validation_components_when_nothing_can_answer_422() -> None:
    app = App()

    @app.get("/items/{item_id:int}")
    async def item(item_id: int) -> None: ...

    @app.get("/ping")
    async def ping() -> None: ...

    doc = openapi_document(app, title="t", version="1")
    assert all(
        "422" not in op["responses"] for item in doc["paths"].values() for op in item.values()
    )
    assert "components" not in doc
