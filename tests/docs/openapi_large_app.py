"""A 200-route app for the OpenAPI document's checks and benchmark: nested models,
generics, enums, discriminated unions, optional and aliased fields, parameter models,
forms, files and security (OAuth2 with scopes, API key, HTTP basic)."""

import datetime
import enum
import uuid
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from qakeapi import (
    Body,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    Path,
    QakeAPI,
    Query,
    Router,
    Security,
    UploadFile,
)
from qakeapi.security import APIKeyHeader, HTTPBasic, HTTPBasicCredentials, OAuth2PasswordBearer

T = TypeVar("T")

ROUTES_PER_RESOURCE = 10
RESOURCES = 20


class Color(enum.StrEnum):
    red = "red"
    green = "green"


class Size(enum.IntEnum):
    small = 1
    large = 2


class Address(BaseModel):
    street: str
    city: str
    zip_code: str = Field(alias="zipCode", pattern=r"^[0-9]{5}$")


class Owner(BaseModel):
    id: uuid.UUID
    name: str = Field(min_length=1, max_length=80)
    address: Address | None = None
    tags: list[str] = []


class Item(BaseModel):
    name: str
    price: float = Field(gt=0)
    color: Color = Color.red
    size: Size | None = None
    owner: Owner | None = None
    created: datetime.datetime | None = None


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = 9


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool = True


Pet = Annotated[Cat | Dog, Field(discriminator="kind")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class Filters(BaseModel):
    limit: int = Field(10, ge=1, le=100)
    order_by: Literal["name", "price"] = "name"
    color: Color | None = None


oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"read": "Read", "write": "Write"})
api_key = APIKeyHeader(name="X-API-Key")
basic = HTTPBasic()


def resource(n: int) -> Router:
    """Ten routes under ``/r{n}``, one of each kind."""
    router = Router(prefix=f"/r{n}", tags=[f"resource{n}"])

    @router.get("/items", name=f"list_items_{n}")
    async def list_items(
        filters: Annotated[Filters, Query()],
        x_request_id: Annotated[str | None, Header()] = None,
    ) -> Page[Item]:
        return Page[Item](items=[], total=0)

    @router.get("/items/{item_id:int}", name=f"read_item_{n}")
    async def read_item(item_id: int, session: Annotated[str | None, Cookie()] = None) -> Item:
        raise NotImplementedError

    @router.post("/items", status_code=201, name=f"create_item_{n}")
    async def create_item(
        item: Item, token: Annotated[str, Security(oauth2, scopes=["write"])]
    ) -> Item:
        return item

    @router.put("/items/{item_id}/pet", name=f"put_pet_{n}")
    async def put_pet(
        item_id: Annotated[int, Path(ge=1)], pet: Annotated[Pet, Body(embed=True)]
    ) -> Page[Pet]:
        return Page[Pet](items=[pet], total=1)

    @router.post("/login", name=f"login_{n}")
    async def login(
        username: Annotated[str, Form()], password: Annotated[str, Form(min_length=8)]
    ) -> dict[str, str]:
        return {}

    @router.post("/upload", name=f"upload_{n}")
    async def upload(
        file: Annotated[UploadFile, File()], note: Annotated[str | None, Form()] = None
    ) -> dict[str, int]:
        return {}

    @router.get("/owners/{owner_id:uuid}", name=f"read_owner_{n}")
    async def read_owner(owner_id: uuid.UUID, key: Annotated[str, Depends(api_key)]) -> Owner:
        raise NotImplementedError

    @router.delete("/items/{item_id:int}", status_code=204, name=f"delete_item_{n}")
    async def delete_item(
        item_id: int, token: Annotated[str, Security(oauth2, scopes=["write", "read"])]
    ) -> None:
        return None

    @router.patch("/owners/{owner_id:uuid}/address", name=f"patch_address_{n}")
    async def patch_address(
        owner_id: uuid.UUID,
        address: Address,
        credentials: Annotated[HTTPBasicCredentials, Depends(basic)],
    ) -> Owner:
        raise NotImplementedError

    @router.get("/search", name=f"search_{n}")
    async def search(
        q: Annotated[str, Query(min_length=2, alias="query")],
        sizes: Annotated[list[Size], Query()] = [],  # noqa: B006
        since: datetime.date | None = None,
    ) -> list[Item]:
        return []

    return router


def build_app() -> QakeAPI:
    """The app: ``RESOURCES`` routers of ``ROUTES_PER_RESOURCE`` routes each."""
    app = QakeAPI(title="Large", version="1")
    for n in range(RESOURCES):
        app.include_router(resource(n))
    return app


def __getattr__(name: str) -> QakeAPI:
    """``app``, built when asked for (``qake openapi tests.docs.openapi_large_app:app``)."""
    if name == "app":
        return build_app()
    raise AttributeError(name)
