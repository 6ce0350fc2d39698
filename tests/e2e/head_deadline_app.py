"""The app of tests/e2e/test_head_deadline.py: a quick route and a slow one."""

from __future__ import annotations

import anyio

from qakeapi import QakeAPI

app = QakeAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/ping")
async def ping() -> dict[str, bool]:
    return {"ok": True}


@app.get("/slow")
async def slow() -> dict[str, bool]:
    await anyio.sleep(2.5)
    return {"slow": True}
