"""The app the hostile-input suite attacks under a real uvicorn (tests/e2e/hostile/).

One route of each kind an attacker reaches: typed handlers (path, query, JSON body),
an urlencoded/multipart form, an upload (up to 200 MB, spooled to the temp dir), a
static mount, a ``FileResponse`` serving ranges, a redirect that checks its target, a
guard that trusts ``request.url.path``, JWT-protected routes (HS256 and RS256),
CSRF-protected routes and a WebSocket echo with limits. ``/ping`` is the probe.

``HOSTILE_DIR`` (set by the suite's launcher before the import) holds the served
``data.bin``; the launcher also points ``tempfile`` at ``HOSTILE_DIR/tmp`` so that
the suite can check that no spooled upload is left behind.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import BaseModel

from qake_security import CSRFMiddleware, JWTAuth, SimpleUser, csrf_exempt, csrf_token
from qakeapi import (
    CallNext,
    Depends,
    File,
    FileResponse,
    Form,
    HTTPException,
    Limits,
    QakeAPI,
    Request,
    RequestIDMiddleware,
    Response,
    StaticFiles,
    StreamingResponse,
    UploadFile,
    WebSocket,
    is_safe_redirect,
)
from qakeapi.responses import RedirectResponse

HERE = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("HOSTILE_DIR") or tempfile.mkdtemp(prefix="hostile-"))
DATA = DATA_DIR / "data.bin"
if not DATA.exists():
    DATA.write_bytes(bytes(range(256)) * 4096)  # 1 MiB

SECRET = "hostile-suite-hmac-secret-0123456789abcdef"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PUBLIC_PEM = RSA_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
hs_auth = JWTAuth(key=SECRET, algorithms=["HS256"])
rs_auth = JWTAuth(key=RSA_KEY, algorithms=["RS256"])

#: 1 s without body bytes: 408 (the slow-body attacks wait for it).
app = QakeAPI(limits=Limits(body_timeout=1.0))
app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
app.add_middleware(CSRFMiddleware, secret_keys=[SECRET], https_only=False)
app.add_middleware(RequestIDMiddleware)  # echoes a valid incoming X-Request-ID

BIG = Limits(max_body_size=256 * 1024 * 1024, max_file_size=256 * 1024 * 1024)


@app.middleware("http")
async def admin_only(request: Request, call_next: CallNext) -> Response:
    """A guard that trusts ``request.url.path`` (the BadHost advisories' pattern)."""
    if request.url.path.startswith("/admin") and request.headers.get("x-admin") != "yes":
        return Response(b"forbidden", status_code=403)
    return await call_next(request)


@app.get("/ping")
async def ping() -> dict[str, bool]:
    return {"pong": True}


@app.get("/admin/secret")
async def secret() -> dict[str, str]:
    return {"secret": "s3cr3t"}


class Item(BaseModel):
    name: str
    tags: list[str] = []


@app.get("/items/{item_id}")
async def read_item(item_id: int, q: str = "", page: int = 1) -> dict[str, object]:
    return {"id": item_id, "q": q, "page": page}


@app.post("/typed")
@csrf_exempt
async def typed(item: Item) -> Item:
    return item


@app.post("/echo")
@csrf_exempt
async def echo(request: Request) -> dict[str, int]:
    return {"size": len(await request.body())}


@app.post("/form")
@csrf_exempt
async def form(name: Annotated[str, Form()], note: Annotated[str, Form()] = "") -> dict[str, int]:
    return {"name": len(name), "note": len(note)}


@app.post("/upload", limits=BIG)
@csrf_exempt
async def upload(file: Annotated[UploadFile, File()]) -> dict[str, int]:
    size = 0
    while chunk := await file.read(1024 * 1024):
        size += len(chunk)
    return {"size": size}


@app.get("/file")
async def data_file() -> FileResponse:
    return FileResponse(DATA, media_type="application/octet-stream")


#: ``/stream`` generators running now, and those that ran their ``finally``.
STREAMS = {"running": 0, "finished": 0}


@app.get("/stream")
async def stream() -> StreamingResponse:
    """64 MiB in 64 KiB chunks: for clients that leave mid-response."""

    async def chunks() -> AsyncIterator[bytes]:
        STREAMS["running"] += 1
        try:
            for _ in range(1024):
                yield bytes(64 * 1024)
        finally:
            STREAMS["running"] -= 1
            STREAMS["finished"] += 1

    return StreamingResponse(chunks(), media_type="application/octet-stream")


@app.get("/stats")
async def stats() -> dict[str, int]:
    """The stream counters, and the server's asyncio tasks (this request's included)."""
    return {**STREAMS, "tasks": len(asyncio.all_tasks())}


@app.get("/redirect")
async def redirect(next: str = "/") -> RedirectResponse:
    if not is_safe_redirect(next):
        raise HTTPException(400, "The redirect target is not on this site.")
    return RedirectResponse(next, status_code=303)


@app.get("/reflect")
async def reflect(request: Request) -> Response:
    """Echoes the ``X-Echo`` request header into a response header and the body: what
    CR/LF in a request header would aim at."""
    value = request.headers.get("x-echo", "")
    return Response(value.encode("latin-1"), headers={"x-echo": value}, media_type="text/plain")


@app.get("/jwt/hs")
async def jwt_hs(user: Annotated[SimpleUser, Depends(hs_auth)]) -> dict[str, str]:
    return {"user": user.identity}


@app.get("/jwt/rs")
async def jwt_rs(user: Annotated[SimpleUser, Depends(rs_auth)]) -> dict[str, str]:
    return {"user": user.identity}


@app.get("/jwt/keys")
async def jwt_keys() -> dict[str, str]:
    """Tokens for the tests to tamper with, and the RS256 public key (public anyway)."""
    return {
        "hs": hs_auth.create_token("alice"),
        "rs": rs_auth.create_token("alice"),
        "hs_expired": hs_auth.create_token("alice", expires_in=-3600),
        "public_pem": RSA_PUBLIC_PEM.decode(),
    }


@app.get("/csrf/token")
async def csrf_issue(request: Request) -> dict[str, str]:
    return {"token": csrf_token(request)}


@app.post("/csrf/transfer")
async def csrf_transfer(amount: Annotated[int, Form()]) -> dict[str, int]:
    return {"moved": amount}


@app.websocket("/ws", max_message_size=64 * 1024, max_messages_per_second=200, idle_timeout=20)
async def ws_echo(ws: WebSocket) -> None:
    await ws.accept()
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await ws.send_text(message["text"])
        else:
            await ws.send_bytes(message["bytes"])
