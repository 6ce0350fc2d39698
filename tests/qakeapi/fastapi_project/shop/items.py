"""The shop's items: a router with a prefix, included by the app."""

from typing import Any

from fastapi import (  # what the router needs
    APIRouter,
    Depends,  # the user comes from a dependency
    HTTPException,
    Query,
)
from pydantic import BaseModel

from shop.auth import current_user

router = APIRouter(prefix="/items", tags=["items"])

ITEMS: dict[int, dict[str, Any]] = {1: {"id": 1, "name": "Hammer", "price": 9.5}}


class Item(BaseModel):
    name: str
    price: float


@router.get("/")
def list_items(limit: int = Query(10, ge=1, le=100)) -> list[dict[str, Any]]:
    return list(ITEMS.values())[:limit]


@router.get("/{item_id}")
def read_item(item_id: int) -> dict[str, Any]:
    if item_id not in ITEMS:
        raise HTTPException(status_code=404, detail="Item not found")
    return ITEMS[item_id]


@router.post("/", status_code=201)
def create_item(item: Item, user: str = Depends(current_user)) -> dict[str, Any]:
    new = {"id": max(ITEMS) + 1, **item.model_dump(), "owner": user}
    ITEMS[new["id"]] = new
    return new
