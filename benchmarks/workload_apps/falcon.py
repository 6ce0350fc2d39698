"""Falcon (ASGI), as its docs teach: resources with ``on_get``, the pool opened by a
middleware's ``process_startup`` (Falcon's lifespan hook), jinja2 used directly with
autoescaping for S8, ``resp.media`` for S9 and S10 (``model_dump()``; ``mode="json"``
for S10's datetimes, which Falcon's default JSON handler cannot write).
"""

from __future__ import annotations

from typing import Any

import falcon
import falcon.asgi
import jinja2

from workload_apps.common import (
    CUSTOMERS,
    TEMPLATE,
    TEMPLATES,
    open_pool,
    read_fortunes,
    read_worlds,
)

template = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True
).get_template(TEMPLATE)


class Database:
    """Opens the pool at startup and closes it at shutdown."""

    def __init__(self) -> None:
        self.pool: Any = None

    async def process_startup(self, scope: Any, event: Any) -> None:
        self.pool = await open_pool()

    async def process_shutdown(self, scope: Any, event: Any) -> None:
        if self.pool is not None:
            await self.pool.close()


class Fortunes:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        rows = await read_fortunes(self.db.pool)
        resp.content_type = falcon.MEDIA_HTML
        resp.text = template.render(fortunes=rows)


class Queries:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = [w.model_dump() for w in await read_worlds(self.db.pool)]


class LargeJson:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = [c.model_dump(mode="json") for c in CUSTOMERS]


database = Database()
app = falcon.asgi.App(middleware=[database])
app.add_route("/fortunes", Fortunes(database))
app.add_route("/queries", Queries(database))
app.add_route("/large-json", LargeJson())
