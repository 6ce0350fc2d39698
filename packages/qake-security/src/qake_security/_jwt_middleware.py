"""``JWTAuthMiddleware``: ``JWTAuth`` for every request, as pure ASGI middleware."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qake_core import deny_websocket, problem_response
from qake_core.types import ASGIApp, Receive, Scope, Send
from qake_security._jwt import INVALID_CHALLENGE, INVALID_DETAIL, InvalidToken
from qake_security._users import ANONYMOUS, set_user

if TYPE_CHECKING:
    from qake_security._jwt import JWTAuth

__all__ = ["JWTAuthMiddleware"]

#: RFC 6455 §7.4.1: 1008 "policy violation" (a handshake refused before ``accept``).
WS_POLICY_VIOLATION = 1008


class JWTAuthMiddleware:
    """Set ``request.user`` / ``request.auth`` from the request's bearer token.

    No token: the request goes on as :data:`ANONYMOUS` (routes that need a user say
    so with ``Depends(auth)`` or ``requires(...)``). A token that fails verification is
    answered here with ``401`` and ``WWW-Authenticate: Bearer error="invalid_token"``
    rather than silently treated as anonymous, so that a client learns its token is
    bad; ``reject_invalid=False`` lets such requests through as anonymous instead. A
    WebSocket handshake gets the same 401 when the server has the
    ``websocket.http.response`` extension, else a close with 1008.
    """

    def __init__(self, app: ASGIApp, auth: JWTAuth, reject_invalid: bool = True) -> None:
        self.app = app
        self.auth = auth
        self.reject_invalid = reject_invalid

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        try:
            verified = self.auth.authenticate(scope)
        except InvalidToken:
            if self.reject_invalid:
                await self._refuse(scope, receive, send)
                return
            verified = None
        if verified is None:
            set_user(scope, ANONYMOUS, None)
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(401, INVALID_DETAIL, headers=INVALID_CHALLENGE)
        if scope["type"] == "websocket":
            await deny_websocket(scope, receive, send, response, WS_POLICY_VIOLATION)
        else:
            await response(scope, receive, send)
