"""Request bodies: JSON models, embedding, several bodies, content types, forms, files."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, field_validator

from qake_core import App, Body, File, Form, UploadFile
from qake_testing import TestClient


class Tag(BaseModel):
    name: str


class Item(BaseModel):
    name: str
    price: float
    tags: list[Tag] = []

    @field_validator("name")
    @classmethod
    def not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("name is blank")
        return v


class User(BaseModel):
    id: int


def _app() -> App:
    app = App()

    @app.post("/items", status_code=201)
    async def create(item: Item) -> Item:
        return item

    @app.post("/embed")
    async def embed(item: Annotated[Item, Body(embed=True)]) -> Item:
        return item

    @app.post("/two")
    async def two(item: Item, user: User, note: str = Body("none")) -> dict[str, Any]:
        return {"item": item.name, "user": user.id, "note": note}

    @app.put("/optional")
    async def optional(item: Item | None = None) -> dict[str, Any]:
        return {"item": None if item is None else item.name}

    @app.post("/raw")
    async def raw(data: dict[str, int]) -> dict[str, int]:
        return data

    return app


def test_model_body_validated() -> None:
    client = TestClient(_app())
    body = {"name": "a", "price": 2, "tags": [{"name": "t"}]}
    r = client.post("/items", json=body)
    assert r.status_code == 201
    assert r.json() == {"name": "a", "price": 2.0, "tags": [{"name": "t"}]}


def test_body_errors_missing_extra_nested() -> None:
    client = TestClient(_app())
    r = client.post("/items", json={"price": "x", "tags": [{}], "extra": 1})
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert [e["loc"] for e in errors] == [
        ["body", "name"],
        ["body", "price"],
        ["body", "tags", 0, "name"],
    ]
    assert client.post("/items", json={"name": "a", "price": 1, "extra": 1}).status_code == 201
    r = client.post("/items", json={"name": " ", "price": 1})
    assert "name is blank" in r.json()["errors"][0]["msg"]


def test_malformed_json_and_missing_body() -> None:
    client = TestClient(_app())
    r = client.post("/items", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body"]
    assert r.json()["errors"][0]["type"] == "json_invalid"
    r = client.post("/items")
    assert r.status_code == 422
    assert r.json()["errors"] == [{"loc": ["body"], "msg": "Field required", "type": "missing"}]
    assert client.put("/optional").json() == {"item": None}


def test_wrong_content_type_is_415() -> None:
    client = TestClient(_app())
    r = client.post(
        "/items", content=b'{"name":"a","price":1}', headers={"content-type": "text/plain"}
    )
    assert r.status_code == 415
    r = client.post("/items", content=b'{"name":"a","price":1}')
    assert r.status_code == 415
    r = client.post(
        "/items",
        content=b'{"name":"a","price":1}',
        headers={"content-type": "application/vnd.api+json; charset=utf-8"},
    )
    assert r.status_code == 201


def test_embed_and_several_bodies() -> None:
    client = TestClient(_app())
    assert client.post("/embed", json={"item": {"name": "a", "price": 1}}).json()["name"] == "a"
    r = client.post("/embed", json={"name": "a", "price": 1})
    assert r.json()["errors"][0]["loc"] == ["body", "item"]
    got = client.post("/two", json={"item": {"name": "a", "price": 1}, "user": {"id": 3}}).json()
    assert got == {"item": "a", "user": 3, "note": "none"}
    r = client.post("/two", json={"item": {"name": "a"}, "user": {}})
    assert [e["loc"] for e in r.json()["errors"]] == [
        ["body", "item", "price"],
        ["body", "user", "id"],
    ]


def test_dict_body() -> None:
    client = TestClient(_app())
    assert client.post("/raw", json={"a": 1}).json() == {"a": 1}
    assert client.post("/raw", json={"a": "x"}).json()["errors"][0]["loc"] == ["body", "a"]


def test_form_fields() -> None:
    app = App()

    @app.post("/login")
    async def login(
        username: str = Form(), age: int = Form(ge=0), roles: list[str] = Form([])
    ) -> dict[str, Any]:
        return {"username": username, "age": age, "roles": roles}

    client = TestClient(app)
    r = client.post("/login", data={"username": "u", "age": "3", "roles": ["a", "b"]})
    assert r.json() == {"username": "u", "age": 3, "roles": ["a", "b"]}
    r = client.post("/login", data={"age": "-1"})
    assert [e["loc"] for e in r.json()["errors"]] == [["body", "username"], ["body", "age"]]
    assert client.post("/login", json={"username": "u"}).status_code == 415


def test_file_uploads() -> None:
    app = App()

    @app.post("/upload")
    async def upload(
        file: UploadFile,
        raw: bytes = File(),
        more: list[UploadFile] = File([]),
        note: str = Form(""),
    ) -> dict[str, Any]:
        return {
            "name": file.filename,
            "content": (await file.read()).decode(),
            "raw": raw.decode(),
            "more": [m.filename for m in more],
            "note": note,
        }

    client = TestClient(app)
    r = client.post(
        "/upload",
        files=[
            ("file", ("a.txt", b"hello", "text/plain")),
            ("raw", ("b.bin", b"bytes", "application/octet-stream")),
            ("more", ("c.txt", b"1", "text/plain")),
            ("more", ("d.txt", b"2", "text/plain")),
        ],
        data={"note": "n"},
    )
    assert r.json() == {
        "name": "a.txt",
        "content": "hello",
        "raw": "bytes",
        "more": ["c.txt", "d.txt"],
        "note": "n",
    }
    r = client.post("/upload", files=[("other", ("x", b"x"))])
    assert [e["loc"] for e in r.json()["errors"]] == [["body", "file"], ["body", "raw"]]
    r = client.post("/upload", files=[("x", ("x", b"x"))], data={"file": "not a file", "raw": "r"})
    assert r.json()["errors"][0]["loc"] == ["body", "file"]


def test_content_type_verdicts_are_remembered_within_a_bound() -> None:
    from qake_core._typed import _body

    client = TestClient(_app())
    payload = b'{"name":"a","price":1}'
    for _ in range(2):  # the second time, from the remembered verdict
        assert (
            client.post(
                "/items", content=payload, headers={"content-type": "text/plain"}
            ).status_code
            == 415
        )
        ok = client.post("/items", content=payload, headers={"content-type": "application/json"})
        assert ok.status_code == 201
    for i in range(300):  # values from the network: the memory of them stays bounded
        r = client.post("/items", content=payload, headers={"content-type": f"application/x-{i}"})
        assert r.status_code == 415
    assert len(_body._JSON_BY_VALUE) <= 256
    long = "application/json; " + "x" * 100  # judged each time, never kept
    r = client.post("/items", content=payload, headers={"content-type": long})
    assert r.status_code == 201
    assert long.encode() not in _body._JSON_BY_VALUE
    late = client.post(
        "/items", content=payload, headers={"content-type": "Application/Problem+JSON"}
    )
    assert late.status_code == 201  # judged without being remembered
