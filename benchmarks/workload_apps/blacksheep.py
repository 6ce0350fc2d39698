"""BlackSheep, as its docs teach: the pool opened in ``@app.lifespan`` and registered in
the DI container (handlers take ``pool: asyncpg.Pool``), the Jinja2 renderer with
``view()`` for S8 (it adds
``.jinja`` to the name: ``templates/fortunes.jinja`` links to ``fortunes.html``), ``json()`` for S9 and S10 (its encoder writes models and datetimes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
from blacksheep import Application, get, json
from blacksheep.server.rendering.jinja2 import JinjaRenderer
from blacksheep.server.responses import view
from blacksheep.settings.html import html_settings
from jinja2 import FileSystemLoader

from workload_apps.common import (
    CUSTOMERS,
    TEMPLATE_STEM,
    TEMPLATES,
    open_pool,
    read_fortunes,
    read_worlds,
)

app = Application()
html_settings.use(JinjaRenderer(loader=FileSystemLoader(TEMPLATES)))


@app.lifespan
async def pool_lifespan() -> AsyncIterator[None]:
    pool = await open_pool()
    app.services.register(asyncpg.Pool, instance=pool)
    try:
        yield
    finally:
        if pool is not None:
            await pool.close()


@get("/fortunes")
async def fortunes(pool: asyncpg.Pool):
    return view(TEMPLATE_STEM, {"fortunes": await read_fortunes(pool)})


@get("/queries")
async def queries(pool: asyncpg.Pool):
    return json(await read_worlds(pool))


@get("/large-json")
async def large_json():
    return json(CUSTOMERS)
