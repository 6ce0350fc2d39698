"""An app for the Host, header-size and body-deadline tests under a real uvicorn
(tests/e2e/test_defects_server.py): a guard that reads ``request.url.path``, body
routes of every kind, and a body deadline short enough to test (0.5 s).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from qakeapi import CallNext, File, Limits, QakeAPI, Request, Response, UploadFile

app = QakeAPI(limits=Limits(body_timeout=0.5))


@app.middleware("http")
async def admin_only(request: Request, call_next: CallNext) -> Response:
    """The guard of the BadHost advisories: it trusts ``request.url.path``."""
    if request.url.path.startswith("/admin") and request.headers.get("x-admin") != "yes":
        return Response(b"forbidden", status_code=403)
    return await call_next(request)


@app.get("/ok")
async def ok() -> dict[str, bool]:
    return {"ok": True}


@app.get("/admin/secret")
async def secret() -> dict[str, str]:
    return {"secret": "s3cr3t"}


@app.get("/whoami")
async def whoami(request: Request) -> dict[str, str]:
    return {"path": request.url.path, "url": str(request.url)}


@app.post("/echo")
async def echo(request: Request) -> dict[str, int]:
    return {"size": len(await request.body())}


class Item(BaseModel):
    name: str


@app.post("/typed")
async def typed(item: Item) -> Item:
    return item


@app.post("/upload")
async def upload(file: Annotated[UploadFile, File()]) -> dict[str, int]:
    return {"size": len(await file.read())}
