"""``qakeapi.exception_handlers``: FastAPI's default handlers, answering as qakeapi does.

A custom handler that does something (log, count) and then gives the default answer
calls these, as in FastAPI's "re-use the default exception handlers" pattern::

    @app.exception_handler(HTTPException)
    async def logged(request, exc):
        log.warning("HTTP error %s", exc.status_code)
        return await http_exception_handler(request, exc)

The answers are the app's defaults, the ones it sends without the custom handler:
problem+json (RFC 9457) with the exception's status and headers, no body for statuses
that have none (204, 304...), and a 422 listing every error for a
``RequestValidationError`` — or, in an app with ``compat="fastapi"``, FastAPI's
``{"detail": ...}`` bodies. For a WebSocket, the connection closes with 1008 (policy
violation) and the exception's detail as the reason (a close reason holds at most 123
bytes, so the errors themselves are not sent in it).
"""

from __future__ import annotations

from qake_core import HTTPException, Request, RequestValidationError, Response
from qake_core import response_for_http_exception as _problem
from qake_ws import WebSocket

__all__ = [
    "http_exception_handler",
    "request_validation_exception_handler",
    "websocket_request_validation_exception_handler",
]

_POLICY_VIOLATION = 1008


def _default_answer(request: Request, exc: HTTPException) -> Response:
    answer = getattr(request.scope.get("app"), "http_exception_response", None)
    return _problem(exc) if answer is None else answer(exc)


async def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    """The app's default answer to ``exc``: its problem+json response (FastAPI's body
    with ``compat="fastapi"``)."""
    return _default_answer(request, exc)


async def request_validation_exception_handler(
    request: Request, exc: RequestValidationError
) -> Response:
    """qakeapi's default answer to invalid input: 422 problem+json with ``errors``."""
    return _default_answer(request, exc)


async def websocket_request_validation_exception_handler(
    websocket: WebSocket, exc: RequestValidationError
) -> None:
    """Close ``websocket`` with 1008 (policy violation), ``exc``'s detail as the reason."""
    await websocket.close(code=_POLICY_VIOLATION, reason=str(exc.detail))
