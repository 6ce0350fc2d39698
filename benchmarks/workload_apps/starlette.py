"""Starlette, as its docs teach: a lifespan that yields state (``request.state.pool``),
``starlette.templating.Jinja2Templates`` for S8, ``JSONResponse`` of plain data for S9
and S10 (``model_dump()``; ``mode="json"`` for S10's datetimes, which the stdlib JSON
encoder behind ``JSONResponse`` cannot write).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from workload_apps.common import (
    CUSTOMERS,
    TEMPLATE,
    TEMPLATES,
    open_pool,
    read_fortunes,
    read_worlds,
)

templates = Jinja2Templates(directory=TEMPLATES)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    pool = await open_pool()
    try:
        yield {"pool": pool}
    finally:
        if pool is not None:
            await pool.close()


async def fortunes(request: Request) -> Response:
    rows = await read_fortunes(request.state.pool)
    return templates.TemplateResponse(request, TEMPLATE, {"fortunes": rows})


async def queries(request: Request) -> Response:
    worlds = await read_worlds(request.state.pool)
    return JSONResponse([w.model_dump() for w in worlds])


async def large_json(request: Request) -> Response:
    return JSONResponse([c.model_dump(mode="json") for c in CUSTOMERS])


app = Starlette(
    routes=[
        Route("/fortunes", fortunes),
        Route("/queries", queries),
        Route("/large-json", large_json),
    ],
    lifespan=lifespan,
)
