"""``examples/auth_app.py`` unchanged but for two test aids: ``GET /pid`` and the
``x-worker`` header on every answer (which worker answered)."""

from __future__ import annotations

import os

from examples.auth_app import app
from tests.e2e.scaleout.worker_header import WorkerHeader

__all__ = ["app"]


@app.get("/pid")
async def pid() -> dict[str, int]:
    return {"pid": os.getpid()}


app.add_middleware(WorkerHeader)  # added last: outermost
