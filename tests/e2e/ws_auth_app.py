"""WebSocket routes authenticated at the handshake, for tests/e2e/test_ws_e2e_auth.py
under a real uvicorn: a JWT by ``Authorization`` header or ``?access_token=`` (with a
scope-guarded route), and a signed-cookie session set by an HTTP login.

The JWT key and the session key come from ``QAKE_WS_E2E_JWT_KEY`` and
``QAKE_WS_E2E_SESSION_KEY`` (set by the test, which mints tokens with the same JWT key;
random ones when unset).
"""

from __future__ import annotations

import os
import secrets
from typing import Annotated

from qakeapi import Depends, QakeAPI, Request, Security, WebSocket
from qakeapi.security import JWTAuth, SessionAuth, SessionMiddleware, SimpleUser, login

__all__ = ["app"]

jwt = JWTAuth(
    key=os.environ.get("QAKE_WS_E2E_JWT_KEY", secrets.token_hex(32)).encode(),
    algorithms=["HS256"],
    websocket_query_param="access_token",
)

app = QakeAPI()
session_key = os.environ.get("QAKE_WS_E2E_SESSION_KEY", secrets.token_hex(32))
app.add_middleware(SessionMiddleware, secret_keys=[session_key])


@app.get("/ok")
async def ok() -> dict[str, bool]:
    return {"ok": True}


@app.websocket("/private")
async def private(ws: WebSocket, user: Annotated[SimpleUser, Depends(jwt)]) -> None:
    """Greets the token's subject (header or ``?access_token=``)."""
    await ws.accept()
    await ws.send_json({"user": user.identity, "scheme": ws.auth.scheme})


@app.websocket("/feed")
async def feed(
    ws: WebSocket, user: Annotated[SimpleUser, Security(jwt, scopes=["feed:read"])]
) -> None:
    """Only for tokens carrying the ``feed:read`` scope (403 otherwise)."""
    await ws.accept()
    await ws.send_json({"user": user.identity})


@app.post("/login/{name}")
async def do_login(request: Request, name: str) -> dict[str, str]:
    login(request, name)
    return {"ok": name}


@app.websocket("/session")
async def session(ws: WebSocket, user: Annotated[SimpleUser, Depends(SessionAuth())]) -> None:
    """Greets the session's user."""
    await ws.accept()
    await ws.send_json({"user": user.identity, "scheme": ws.auth.scheme})
