"""Authentication at the WebSocket handshake under a real uvicorn, driven by the
``websockets`` client (issue 15): a bearer header, a token in the query, a session
cookie. A refusal reaches the client as the HTTP answer (401/403, problem+json) through
uvicorn's ``websocket.http.response`` extension; valid credentials connect.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from qake_server import Server, qake_run
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response
from websockets.typing import Origin

from qakeapi.security import JWTAuth

pytestmark = pytest.mark.e2e

APP = "tests.e2e.ws_auth_app:app"
TIMEOUT = 3.0
JWT_KEY = secrets.token_hex(32)
COOKIE = "__Host-session"  # SessionMiddleware's default name
INVALID = 'Bearer error="invalid_token"'

#: Mints tokens the server accepts (same key and algorithm as ws_auth_app).
minter = JWTAuth(key=JWT_KEY.encode(), algorithms=["HS256"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("ws-auth") / "server.log"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("QAKE_WS_E2E_JWT_KEY", JWT_KEY)
        env.setenv("QAKE_WS_E2E_SESSION_KEY", secrets.token_hex(32))
        with qake_run(APP, log=log, ready="/ok") as running:
            yield running
    log_text = running.output()
    assert "Traceback" not in log_text, log_text


def _ws(server: Server, path: str) -> str:
    return f"ws://127.0.0.1:{server.port}{path}"


def _greeting(server: Server, path: str, **options: Any) -> Any:
    """What the route sends first once the handshake succeeded."""

    async def main() -> Any:
        async with asyncio.timeout(TIMEOUT), connect(_ws(server, path), **options) as ws:
            return json.loads(await ws.recv())

    return asyncio.run(main())


def _refusal(server: Server, path: str, **options: Any) -> Response:
    """The HTTP answer of a handshake that must be refused."""

    async def main() -> Response:
        with pytest.raises(InvalidStatus) as refused:
            async with asyncio.timeout(TIMEOUT), connect(_ws(server, path), **options):
                pass
        return refused.value.response

    return asyncio.run(main())


def _assert_problem(response: Response, status: int) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert json.loads(response.body)["status"] == status


def _bearer(token: str) -> dict[str, dict[str, str]]:
    return {"additional_headers": {"Authorization": f"Bearer {token}"}}


def test_a_bearer_header_authenticates_the_handshake(server: Server) -> None:
    token = minter.create_token("alice")
    greeting = _greeting(server, "/private", **_bearer(token))
    assert greeting == {"user": "alice", "scheme": "bearer"}

    missing = _refusal(server, "/private")
    _assert_problem(missing, 401)
    assert missing.headers["www-authenticate"] == "Bearer"
    assert b"Not authenticated" in missing.body

    forged = JWTAuth(key=secrets.token_bytes(32), algorithms=["HS256"]).create_token("alice")
    for bad in (forged, "not-a-jwt", minter.create_token("alice", expires_in=-120)):
        refused = _refusal(server, "/private", **_bearer(bad))
        _assert_problem(refused, 401)
        assert refused.headers["www-authenticate"] == INVALID


def test_a_token_in_the_query_authenticates_the_handshake(server: Server) -> None:
    token = minter.create_token("browser")
    greeting = _greeting(server, f"/private?access_token={token}")
    assert greeting == {"user": "browser", "scheme": "bearer"}
    # only the configured parameter is read, and a bad token is refused
    _assert_problem(_refusal(server, f"/private?token={token}"), 401)
    refused = _refusal(server, "/private?access_token=forged.token.here")
    _assert_problem(refused, 401)
    assert refused.headers["www-authenticate"] == INVALID


def test_a_missing_scope_refuses_the_handshake_with_403(server: Server) -> None:
    reader = minter.create_token("reader", {"scope": "feed:read"})
    assert _greeting(server, "/feed", **_bearer(reader)) == {"user": "reader"}
    refused = _refusal(server, "/feed", **_bearer(minter.create_token("nobody")))
    _assert_problem(refused, 403)
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]


def test_a_session_cookie_authenticates_the_handshake(server: Server) -> None:
    missing = _refusal(server, "/session")
    _assert_problem(missing, 401)
    assert missing.headers["www-authenticate"] == "Session"

    answer = httpx.post(f"{server.base}/login/carol", timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    # The cookie is `Secure`: httpx keeps it for https:// only, so it is sent by hand.
    cookie = {"Cookie": f"{COOKIE}={answer.cookies[COOKIE]}"}
    greeting = _greeting(server, "/session", additional_headers=cookie)
    assert greeting == {"user": "carol", "scheme": "session"}
    same_site = Origin(f"http://127.0.0.1:{server.port}")
    assert _greeting(server, "/session", additional_headers=cookie, origin=same_site) == greeting

    # a cross-site page cannot ride the cookie; a forged cookie is no session
    evil = Origin("https://evil.example")
    _assert_problem(_refusal(server, "/session", additional_headers=cookie, origin=evil), 403)
    forged = {"Cookie": f"{COOKIE}={answer.cookies[COOKIE][:-4]}AAAA"}
    _assert_problem(_refusal(server, "/session", additional_headers=forged), 401)
