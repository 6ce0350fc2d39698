"""An app whose routes fail, served by ``qake run`` in the serving tests.

``qake.error`` gets its own handler, with the request ID in every line, so the tests
can count what one failure writes to the server's stderr.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator

from qakeapi import QakeAPI, RequestIDFilter, RequestIDMiddleware, StreamingResponse

_handler = logging.StreamHandler(sys.stderr)
_handler.addFilter(RequestIDFilter())
_handler.setFormatter(logging.Formatter("QAKE-ERROR rid=%(request_id)s %(message)s"))
_errors = logging.getLogger("qake.error")
_errors.addHandler(_handler)
_errors.propagate = False

app = QakeAPI()
app.add_middleware(RequestIDMiddleware)


@app.get("/ok")
async def ok() -> dict[str, bool]:
    return {"ok": True}


@app.get("/boom")
async def boom() -> dict[str, bool]:
    raise RuntimeError("boom before the response")


@app.get("/stream-boom")
async def stream_boom() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"first chunk\n"
        raise RuntimeError("boom in the middle of the body")

    return StreamingResponse(chunks(), media_type="text/plain")
