"""A small qakeapi app: typed routes, JSON bodies, an upload, static files, a template,
streaming and a background task.

Serve it with ``hatch run serve`` (or ``qake run examples.basic_app:app``) and open
http://127.0.0.1:8000/.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from pydantic import BaseModel

from qakeapi import (
    BackgroundTasks,
    File,
    HTMLResponse,
    HTTPException,
    Jinja2Templates,
    QakeAPI,
    Query,
    Request,
    StaticFiles,
    StreamingResponse,
    UploadFile,
)

HERE = Path(__file__).parent
log = logging.getLogger("examples.basic_app")

app = QakeAPI(title="Shop", version="1.0")
app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
templates = Jinja2Templates(directory=HERE / "templates")


class Item(BaseModel):
    name: str
    price: float


ITEMS: dict[int, Item] = {1: Item(name="Hammer", price=9.5)}
AUDIT: list[str] = []


def record(event: str) -> None:
    AUDIT.append(event)
    log.info("audit: %s", event)


@app.get("/")
async def index(request: Request, name: str = Query("visitor", max_length=40)) -> HTMLResponse:
    # Autoescaping is always on: ?name=<script> is rendered as text.
    context = {"title": "Shop", "name": name, "items": ITEMS}
    return templates.TemplateResponse(request, "index.html", context)


@app.get("/items/{item_id:int}", responses={404: {"description": "There is no such item"}})
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


@app.post("/upload")
async def upload(file: UploadFile = File(...)) -> dict[str, object]:
    # The upload is spooled to a temporary file and removed after the response.
    data = await file.read()
    return {"filename": file.filename, "content_type": file.content_type, "size": len(data)}


@app.get("/countdown")
async def countdown() -> StreamingResponse:
    async def ticks() -> AsyncIterator[str]:
        for n in range(3, 0, -1):
            yield f"{n}\n"
            await asyncio.sleep(0.01)
        yield "liftoff\n"

    return StreamingResponse(ticks(), media_type="text/plain")
