"""A small qakeapi app: typed routes, JSON bodies, streaming and a background task.

Serve it with ``hatch run serve`` (or ``qake run examples.basic_app:app``) and open
http://127.0.0.1:8000/items/1.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from pydantic import BaseModel

from qakeapi import BackgroundTasks, HTTPException, QakeAPI, StreamingResponse

log = logging.getLogger("examples.basic_app")

app = QakeAPI(title="Shop", version="1.0")


class Item(BaseModel):
    name: str
    price: float


ITEMS: dict[int, Item] = {1: Item(name="Hammer", price=9.5)}
AUDIT: list[str] = []


def record(event: str) -> None:
    AUDIT.append(event)
    log.info("audit: %s", event)


@app.get("/")
async def index() -> dict[str, str]:
    return {"hello": "qakeapi", "items": "/items/1"}


@app.get("/items/{item_id:int}")
async def read_item(item_id: int) -> Item:
    item = ITEMS.get(item_id)
    if item is None:
        raise HTTPException(404, f"There is no item {item_id}.")
    return item


@app.post("/items", status_code=201)
async def create_item(item: Item, tasks: BackgroundTasks) -> dict[str, object]:
    item_id = max(ITEMS, default=0) + 1
    ITEMS[item_id] = item
    tasks.add_task(record, f"created item {item_id}")
    return {"id": item_id, "item": item}


@app.get("/countdown")
async def countdown() -> StreamingResponse:
    async def ticks() -> AsyncIterator[str]:
        for n in range(3, 0, -1):
            yield f"{n}\n"
            await asyncio.sleep(0.01)
        yield "liftoff\n"

    return StreamingResponse(ticks(), media_type="text/plain")
