"""qakeapi, as its docs teach: the pool opened in the app's lifespan (what it yields
becomes ``request.state``) and handed to handlers by a dependency, ``Jinja2Templates``
for S8, and return types for S9 and S10 (``list[World]``, ``list[Customer]``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from qakeapi import Depends, HTMLResponse, HTTPConnection, Jinja2Templates, QakeAPI, Request
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
async def lifespan(app: QakeAPI) -> AsyncIterator[dict[str, Any]]:
    pool = await open_pool()
    try:
        yield {"pool": pool}
    finally:
        if pool is not None:
            await pool.close()


async def get_pool(conn: HTTPConnection) -> Any:
    """The pool the lifespan opened: ``async def``, as the tutorial teaches a
    dependency doing no blocking work (a ``def`` one runs in a worker thread: 201,841
    instructions per request on S8 under callgrind)."""
    return conn.state.pool


Pool = Annotated[Any, Depends(get_pool)]

#: ``QAKE_BENCH_SECURITY_HEADERS=0``: the app without its default security headers, an
#: analysis variant that prices them (README, "Where qakeapi's S8 gap goes"); every
#: reported column keeps them on.
SECURITY_HEADERS = os.environ.get("QAKE_BENCH_SECURITY_HEADERS") != "0"

app = QakeAPI(lifespan=lifespan, security_headers=SECURITY_HEADERS)
templates = Jinja2Templates(directory=TEMPLATES)


@app.get("/fortunes")
async def fortunes(request: Request, pool: Pool) -> HTMLResponse:
    rows = await read_fortunes(pool)
    return templates.TemplateResponse(request, TEMPLATE, {"fortunes": rows})


@app.get("/queries")
async def queries(pool: Pool) -> list[World]:
    return await read_worlds(pool)


@app.get("/large-json")
async def large_json() -> list[Customer]:
    return CUSTOMERS
