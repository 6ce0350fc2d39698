"""The outermost middleware: any unhandled exception becomes a 500, never a traceback."""

from __future__ import annotations

import html
import logging
import traceback

from qake_core._problem import problem_response
from qake_core._responses import HTMLResponse, Response
from qake_core.types import ASGIApp, Receive, Scope, Send

__all__ = ["RESPONSE_STARTED", "ServerErrorMiddleware", "error_response"]

#: Scope key set once a response (or the 500 for an error) has been sent.
RESPONSE_STARTED = "qake.response_started"

logger = logging.getLogger("qake.error")


class ServerErrorMiddleware:
    """Answer 500 (problem+json) when the app raises before it started a response.

    The exception is logged with its traceback and re-raised so the server sees it
    too. With ``debug=True`` the response shows the traceback (HTML for browsers).
    If the response had already started, nothing more is sent: the server closes
    the connection.
    """

    def __init__(self, app: ASGIApp, debug: bool = False) -> None:
        self.app = app
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # PERF: no send wrapper to track "response started"; on error we try to send
        # the 500 and swallow the server's refusal if a response had already begun.
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            logger.exception(
                "unhandled error in %s %s", scope.get("method"), scope.get("path"), exc_info=exc
            )
            if scope.get(RESPONSE_STARTED):
                raise  # the runner saw the response begin: never send a second one
            try:
                await error_response(exc, scope, self.debug)(scope, receive, send)
            except Exception:
                pass
            raise


def error_response(exc: BaseException, scope: Scope, debug: bool) -> Response:
    """The 500 response for ``exc``: a generic problem, or the traceback when debugging."""
    if not debug:
        return problem_response(500, "The server failed to handle the request.")
    text = "".join(traceback.format_exception(exc))
    accept = b""
    for k, v in scope["headers"]:
        if k == b"accept":
            accept = v
    if b"text/html" in accept:
        return HTMLResponse(
            f"<h1>500 Internal Server Error</h1><pre>{html.escape(text)}</pre>", status_code=500
        )
    return problem_response(500, text)
