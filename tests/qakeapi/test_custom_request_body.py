"""FastAPI's "custom Request and APIRoute class" patterns, the qakeapi way (issue 17):
qakeapi has no route classes (``route_class=`` is refused with this advice), so

* a request body to transform (gzip-compressed bodies) goes through a pure ASGI
  middleware that wraps ``receive`` — for the whole app, or ``middleware=`` hooks for one
  router;
* the body of a request that failed validation is ``exc.body`` in a
  ``RequestValidationError`` handler.

The code is the migration guide's (docs/migration/fastapi.md, "Route classes").
"""

from __future__ import annotations

import gzip
import io
from typing import Annotated, Any

from qake_core.types import ASGIApp, Message, Receive, Scope, Send
from qakeapi import Body, QakeAPI, Request, RequestValidationError
from qakeapi.responses import JSONResponse
from qakeapi.testing import TestClient


class GzipRequestMiddleware:
    """Decompress request bodies sent with ``Content-Encoding: gzip``."""

    def __init__(self, app: ASGIApp, max_size: int = 1024 * 1024) -> None:
        self.app = app
        self.max_size = max_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", ())) if scope["type"] == "http" else {}
        if headers.get(b"content-encoding") != b"gzip":
            await self.app(scope, receive, send)
            return
        compressed = b""
        while True:
            message = await receive()
            compressed += message.get("body", b"")
            if not message.get("more_body", False):
                break
        try:
            # bounded: a gzip bomb is cut at max_size + 1 bytes and refused below
            body = gzip.GzipFile(fileobj=io.BytesIO(compressed)).read(self.max_size + 1)
        except OSError:
            await JSONResponse({"detail": "invalid gzip body"}, status_code=400)(
                scope, receive, send
            )
            return
        if len(body) > self.max_size:
            await JSONResponse({"detail": "body too large"}, status_code=413)(scope, receive, send)
            return
        scope["headers"] = [
            (k, v) for k, v in scope["headers"] if k not in (b"content-encoding", b"content-length")
        ] + [(b"content-length", str(len(body)).encode())]
        sent = False

        async def inflated() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, inflated, send)


def make_app() -> QakeAPI:
    app = QakeAPI()
    app.add_middleware(GzipRequestMiddleware)

    @app.post("/sum")
    async def total(numbers: Annotated[list[int], Body()]) -> dict[str, int]:
        return {"sum": sum(numbers)}

    @app.exception_handler(RequestValidationError)
    async def with_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"errors": len(exc.errors()), "body": exc.body}, status_code=422)

    return app


def test_a_gzip_body_is_decompressed_before_the_handler_reads_it() -> None:
    client = TestClient(make_app())
    packed = gzip.compress(b"[1, 2, 3]")
    headers = {"content-encoding": "gzip", "content-type": "application/json"}
    assert client.post("/sum", content=packed, headers=headers).json() == {"sum": 6}
    assert client.post("/sum", json=[4, 5]).json() == {"sum": 9}  # plain bodies as before


def test_a_bad_or_oversized_gzip_body_is_refused() -> None:
    client = TestClient(make_app())
    headers = {"content-encoding": "gzip", "content-type": "application/json"}
    assert client.post("/sum", content=b"not gzip", headers=headers).status_code == 400
    bomb = gzip.compress(b"[" + b"1," * (1024 * 1024) + b"1]")
    assert client.post("/sum", content=bomb, headers=headers).status_code == 413


def test_the_body_of_an_invalid_request_reaches_the_handler() -> None:
    answer: Any = TestClient(make_app()).post("/sum", json=[1, "x"])
    assert answer.status_code == 422
    assert answer.json() == {"errors": 1, "body": [1, "x"]}
