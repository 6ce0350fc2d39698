"""The app of test_metrics' multiprocess test: ``qake run --workers 2`` serves it with
``PROMETHEUS_MULTIPROC_DIR`` set; ``/pid`` says which worker answered."""

from __future__ import annotations

import os

from qake_core import App, MetricsMiddleware, add_metrics_route

app = App()
app.add_middleware(MetricsMiddleware)
add_metrics_route(app)


@app.get("/pid")
async def pid() -> dict[str, int]:
    return {"pid": os.getpid()}


@app.get("/ready")
async def ready() -> dict[str, bool]:
    return {"ready": True}
