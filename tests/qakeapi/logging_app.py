"""The app of test_cli_logging: ``qake run --log-json`` serves it; it logs through its
own logger and qake-core's access log and error log."""

from __future__ import annotations

import logging

from qakeapi import AccessLogMiddleware, QakeAPI, RequestIDMiddleware

log = logging.getLogger("logging_app")

app = QakeAPI()
app.add_middleware(AccessLogMiddleware)
app.add_middleware(RequestIDMiddleware)


@app.get("/ready")
async def ready() -> dict[str, bool]:
    return {"ready": True}


@app.get("/orders/{order_id:int}")
async def order(order_id: int) -> dict[str, int]:
    log.info("order %d looked up", order_id, extra={"order_id": order_id})
    log.debug("order %d: cache details", order_id)
    return {"order_id": order_id}


@app.get("/boom")
async def boom() -> dict[str, str]:
    raise RuntimeError("card number 4111-1111-1111-1111")
