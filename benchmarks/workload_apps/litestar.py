"""Litestar, as its docs teach: the pool opened in a lifespan context manager and kept on
``app.state`` (handlers take ``state: State``), a ``TemplateConfig`` with the Jinja
engine and a ``Template`` answer for S8, return types for S9 and S10 (Litestar's
pydantic plugin serialises the models).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, get
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.response import Template
from litestar.template.config import TemplateConfig

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
async def pool_lifespan(app: Litestar) -> AsyncIterator[None]:
    app.state.pool = await open_pool()
    try:
        yield
    finally:
        if app.state.pool is not None:
            await app.state.pool.close()


@get("/fortunes")
async def fortunes(state: State) -> Template:
    rows = await read_fortunes(state.pool)
    return Template(template_name=TEMPLATE, context={"fortunes": rows})


@get("/queries")
async def queries(state: State) -> list[World]:
    return await read_worlds(state.pool)


@get("/large-json")
async def large_json() -> list[Customer]:
    return CUSTOMERS


app = Litestar(
    route_handlers=[fortunes, queries, large_json],
    lifespan=[pool_lifespan],
    template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
)
