"""FastAPI, as its docs teach: a lifespan that yields state (``request.state.pool``)
read by a dependency, ``fastapi.templating.Jinja2Templates`` with
``response_class=HTMLResponse`` for S8, return types as response models for S9 and S10.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from workload_apps.common import (
    CUSTOMERS,
    TEMPLATE,
    TEMPLATES,
    Customer,
    World,
    open_pool,
    read_fortunes,
    read_worlds,
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    pool = await open_pool()
    try:
        yield {"pool": pool}
    finally:
        if pool is not None:
            await pool.close()


async def get_pool(request: Request) -> Any:
    return request.state.pool


Pool = Annotated[Any, Depends(get_pool)]

app = FastAPI(lifespan=lifespan)
templates = Jinja2Templates(directory=TEMPLATES)


@app.get("/fortunes", response_class=HTMLResponse)
async def fortunes(request: Request, pool: Pool) -> Any:
    rows = await read_fortunes(pool)
    return templates.TemplateResponse(request, TEMPLATE, {"fortunes": rows})


@app.get("/queries")
async def queries(pool: Pool) -> list[World]:
    return await read_worlds(pool)


@app.get("/large-json")
async def large_json() -> list[Customer]:
    return CUSTOMERS
