"""``examples/basic_app.py`` with one more route, ``GET /_worker`` (the worker's pid),
for the gunicorn recipe's test: which worker answered."""

from __future__ import annotations

import os

from examples.basic_app import app

__all__ = ["app"]


@app.get("/_worker")
async def worker() -> dict[str, int]:
    return {"pid": os.getpid()}
